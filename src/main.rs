fn main() {
    std::process::exit(ltc::run(std::env::args_os().collect()));
}
