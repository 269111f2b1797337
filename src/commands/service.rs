//! `ltc daemon install` and `ltc daemon uninstall`: the node as a systemd service, started at
//! boot (or login, for a user unit), restarted whenever it exits, ordered after Docker.

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::ui::Ui;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unit's name.
pub const UNIT: &str = "ltc.service";

/// Where the unit goes: the user's systemd directory, or the system's.
pub fn unit_path(system: bool) -> Result<PathBuf> {
    if system {
        return Ok(PathBuf::from("/etc/systemd/system").join(UNIT));
    }
    dirs::config_dir()
        .map(|dir| dir.join("systemd/user").join(UNIT))
        .ok_or_else(|| Error::config("cannot find this user's configuration directory"))
}

/// The unit for this ltc, this home, this router address and this engine.
pub fn unit(settings: &Settings, exe: &Path, system: bool) -> String {
    let quote = |value: &str| format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let after = if system {
        "After=docker.service network-online.target\nWants=network-online.target\nRequires=docker.service\n"
    } else {
        // A user manager cannot order after a system unit; the node waits for the engine.
        ""
    };
    format!(
        "# The ltc node: keeps the apps of {home} converged and routed.\n\
         # Written by `ltc daemon install`; `ltc daemon uninstall` removes it.\n\
         [Unit]\n\
         Description=ltc node (apps of {home})\n\
         {after}\n\
         [Service]\n\
         Type=simple\n\
         ExecStart={exe} daemon run\n\
         Restart=always\n\
         RestartSec=100ms\n\
         Environment={ltc_home}\n\
         Environment={router}\n\
         Environment={tls}\n\
         Environment={docker}\n\
         # The node lets requests in flight finish (10 s at most), then exits; apps keep running.\n\
         TimeoutStopSec=30\n\
         \n\
         [Install]\n\
         WantedBy={wanted}\n",
        home = settings.paths.home.display(),
        exe = exe.display(),
        ltc_home = quote(&format!("LTC_HOME={}", settings.paths.home.display())),
        router = quote(&format!("LTC_ROUTER_ADDR={}", settings.router_addr)),
        tls = quote(&format!(
            "LTC_ROUTER_TLS_ADDR={}",
            settings
                .router_tls_addr
                .map_or("off".to_string(), |a| a.to_string())
        )),
        docker = quote(&format!("DOCKER_HOST={}", settings.docker_host)),
        wanted = if system {
            "multi-user.target"
        } else {
            "default.target"
        },
    )
}

/// Whether systemd manages this machine (as `sd_booted` decides).
fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn systemctl(system: bool, args: &[&str]) -> Result<()> {
    let mut command = Command::new("systemctl");
    if !system {
        command.arg("--user");
    }
    let output = command
        .args(args)
        .output()
        .map_err(|e| Error::failed(format!("cannot run systemctl: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::failed(format!(
        "`systemctl {}{}` failed: {}",
        if system { "" } else { "--user " },
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

pub fn install(settings: &Settings, ui: &Ui, system: bool, print: bool) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::fs(format!("cannot find the ltc executable: {e}")))?;
    let text = unit(settings, &exe, system);
    if print {
        ui.out_raw(&text);
        return Ok(());
    }
    let path = unit_path(system)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::fs(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    std::fs::write(&path, &text)
        .map_err(|e| Error::fs(format!("cannot write `{}`: {e}", path.display())))?;
    let scope = if system { "" } else { "--user " };
    if !systemd_running() {
        return Err(Error::failed(format!(
            "systemd is not running on this machine: the unit is written at {}, but nothing \
             will start it",
            path.display()
        ))
        .with_hint(
            "start the node with `ltc daemon start`, or have your init system run `ltc daemon run`",
        ));
    }
    systemctl(system, &["daemon-reload"])?;
    // A node started by hand is taken over by the unit's, without a gap.
    systemctl(system, &["enable", "--now", UNIT])?;
    if ui.json {
        ui.json(&serde_json::json!({ "unit": path.display().to_string(), "enabled": true }));
    } else {
        ui.out(format!("installed and started {}", path.display()));
        ui.note(format!(
            "its log: journalctl {scope}-u ltc -f (and {})",
            settings.paths.log_file().display()
        ));
        if !system {
            ui.note(
                "a user unit runs while you are logged in; `loginctl enable-linger` keeps it \
                 running at boot",
            );
        }
    }
    Ok(())
}

pub fn uninstall(ui: &Ui, system: bool) -> Result<()> {
    let path = unit_path(system)?;
    if !path.exists() {
        if ui.json {
            ui.json(&serde_json::json!({ "unit": path.display().to_string(), "removed": false }));
        } else {
            ui.out(format!("no unit at {}: nothing to remove", path.display()));
        }
        return Ok(());
    }
    if systemd_running() {
        // Stopping the unit stops its node: routing stops until a node runs again.
        systemctl(system, &["disable", "--now", UNIT])?;
    }
    std::fs::remove_file(&path)
        .map_err(|e| Error::fs(format!("cannot remove `{}`: {e}", path.display())))?;
    if systemd_running() {
        systemctl(system, &["daemon-reload"])?;
    }
    if ui.json {
        ui.json(&serde_json::json!({ "unit": path.display().to_string(), "removed": true }));
    } else {
        ui.out(format!("removed {}", path.display()));
    }
    Ok(())
}
