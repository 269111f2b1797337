//! Files generated from the command-line definition: shell completions (`completions/`) and man
//! pages (`docs/man/`). They are committed so packagers and users need no build step; a test
//! regenerates them in memory and fails when the committed copies are stale
//! (`LTC_REGENERATE=1 cargo test generated` rewrites them).

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;

/// The shells `ltc completions` knows, with the file each one's script is committed as.
pub const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "ltc.bash"),
    (Shell::Zsh, "_ltc"),
    (Shell::Fish, "ltc.fish"),
    (Shell::PowerShell, "_ltc.ps1"),
    (Shell::Elvish, "ltc.elv"),
];

/// The completion script for one shell.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ltc", &mut out);
    out
}

/// Every generated file, as (path relative to the repository, content).
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = SHELLS
        .iter()
        .map(|(shell, name)| (format!("completions/{name}"), completions(*shell)))
        .collect();
    let command = Cli::command();
    files.push(("docs/man/ltc.1".into(), man_page(&command)));
    for sub in command.get_subcommands() {
        let name = format!("ltc-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("ltc {}", sub.get_name()));
        files.push((format!("docs/man/{name}.1"), man_page(&page)));
        for nested in page.get_subcommands() {
            let nested_name = format!("{name}-{}", nested.get_name());
            let nested_page = nested.clone().name(nested_name.clone()).bin_name(format!(
                "ltc {} {}",
                sub.get_name(),
                nested.get_name()
            ));
            files.push((format!("docs/man/{nested_name}.1"), man_page(&nested_page)));
        }
    }
    files
}

fn man_page(command: &clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .expect("rendering to memory does not fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn generated_completions_and_man_pages_are_committed_and_fresh() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let regenerate = std::env::var_os("LTC_REGENERATE").is_some();
        let mut stale = Vec::new();
        for (path, content) in files() {
            let full = root.join(&path);
            if regenerate {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, &content).unwrap();
            } else if std::fs::read(&full).ok().as_deref() != Some(content.as_slice()) {
                stale.push(path);
            }
        }
        assert!(
            stale.is_empty(),
            "stale generated files {stale:?}: run `LTC_REGENERATE=1 cargo test generated` and commit"
        );
    }

    #[test]
    fn every_shell_gets_a_script_that_names_the_commands() {
        for (shell, _) in SHELLS {
            let script = String::from_utf8(completions(shell)).unwrap();
            assert!(script.contains("scale"), "{shell}");
            assert!(script.contains("create"), "{shell}");
        }
    }
}
