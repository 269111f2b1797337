//! The `ltc` binary: everything is in the library; see `ltc::run`.

// The router allocates a little for every request it proxies; glibc's allocator showed up
// at ~10 % of the router's profile, mimalloc's thread-local heaps cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(ltc::run(std::env::args_os().collect()));
}
