//! Browser entry point: Trunk builds this binary and it mounts `App` on the page body.

fn main() {
    // The stored theme is shown before the first render, so the page never flashes the other one.
    smmu_web::theme::apply(smmu_web::theme::load());
    yew::Renderer::<smmu_web::App>::new().render();
}
