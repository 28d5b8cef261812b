//! The exhaustive check's web worker: Trunk builds this binary with `data-type="worker"`,
//! and the page spawns it when a check starts (see `smmu_web::worker`).

use gloo_worker::Registrable;

fn main() {
    smmu_web::worker::ExploreWorker::registrar().register();
}
