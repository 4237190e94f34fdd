//! The web worker that runs the engine (see `shotline_web::worker`); Trunk builds it from the
//! `data-type="worker"` link in index.html.

fn main() {
    shotline_web::worker::main();
}
