//! Browser entry point: Trunk builds this binary and it mounts `App` on the page body.

fn main() {
    yew::Renderer::<smmu_web::App>::new().render();
}
