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

/// Installs the completion script for `shell` and every man page for this user, where the
/// shell and `man` find them without configuration, and returns the files written:
/// bash-completion's `~/.local/share/bash-completion/completions/ltc`, fish's
/// `~/.config/fish/completions/ltc.fish`, `~/.zfunc/_ltc` for zsh (with `fpath+=~/.zfunc`),
/// and `~/.local/share/man/man1/`.
pub fn install(shell: Shell) -> crate::error::Result<Vec<std::path::PathBuf>> {
    use crate::error::Error;
    let data =
        dirs::data_dir().ok_or_else(|| Error::config("cannot find this user's data directory"))?;
    let script = match shell {
        Shell::Bash => data.join("bash-completion/completions/ltc"),
        Shell::Fish => dirs::config_dir()
            .ok_or_else(|| Error::config("cannot find this user's config directory"))?
            .join("fish/completions/ltc.fish"),
        Shell::Zsh => dirs::home_dir()
            .ok_or_else(|| Error::config("cannot find this user's home directory"))?
            .join(".zfunc/_ltc"),
        other => {
            return Err(Error::usage(format!(
                "`--install` knows bash, zsh and fish; for {other}, save `ltc completions {other}` where it loads scripts"
            )));
        }
    };
    let mut written = Vec::new();
    let mut write = |path: std::path::PathBuf, bytes: &[u8]| {
        let made = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, bytes));
        made.map_err(|e| Error::fs(format!("cannot write `{}`: {e}", path.display())))?;
        written.push(path);
        Ok::<(), Error>(())
    };
    write(script, &completions(shell))?;
    for (path, content) in files() {
        if let Some(page) = path.strip_prefix("docs/man/") {
            write(data.join("man/man1").join(page), &content)?;
        }
    }
    Ok(written)
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
