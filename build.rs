//! Builds the built-in demo app (`src/demo/lattice_app.rs`) into a static Linux binary that
//! `ltc` embeds, so `ltc create lattice-app` needs neither a registry nor a second install step.
//!
//! The demo is compiled by invoking the same `rustc` cargo uses, with `+crt-static` so the binary
//! runs in a `FROM scratch` image. It uses the standard library only, which keeps this step at
//! about a second. When the target cannot produce such a binary (not Linux, or no static libc),
//! an empty file is embedded and `ltc` says at run time that the built-in app is unavailable.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "src/demo/lattice_app.rs";

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let target = env::var("TARGET").unwrap_or_default();
    let binary = out_dir.join("lattice-app");

    let built = target.contains("linux")
        && Command::new(&rustc)
            .args([
                "--edition=2021",
                "--crate-name=lattice_app",
                "-C",
                "opt-level=2",
            ])
            .args(["-C", "target-feature=+crt-static", "-C", "strip=symbols"])
            .args(["-C", "panic=abort", "--target", &target, "-o"])
            .arg(&binary)
            .arg(SOURCE)
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
    if !built {
        // Visible in the build's output; `ltc create` without an image then says the same.
        println!(
            "cargo:warning=the built-in lattice-app could not be compiled for `{target}` (it needs a \
             Linux target with a static libc); `ltc create APP` will need an IMAGE"
        );
        std::fs::write(&binary, b"").expect("write placeholder demo binary");
    }
    let bytes = std::fs::read(&binary).expect("read demo binary");
    println!("cargo:rustc-env=LTC_DEMO_DIGEST={:016x}", fnv1a(&bytes));
}
