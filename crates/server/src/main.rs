fn main() {
    std::process::exit(shotline_server::cli::main());
}
