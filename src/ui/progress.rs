//! Progress on stderr: indicatif bars and spinners on a terminal, plain lines otherwise (one
//! line per change, so logs of scripted runs stay readable), nothing with `--quiet`.

use super::Ui;
use crate::model::ImageProgress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::time::Duration;

/// A one-line status while waiting for instances.
pub struct Spinner {
    bar: Option<ProgressBar>,
    quiet: bool,
    last: Option<String>,
}

impl Spinner {
    pub fn new(ui: &Ui) -> Spinner {
        // With --json, stderr holds nothing but the error object.
        let quiet = ui.quiet || ui.json;
        let bar = (ui.err_is_terminal && !quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Spinner {
            bar,
            quiet,
            last: None,
        }
    }

    pub fn set(&mut self, message: String) {
        if self.last.as_ref() == Some(&message) {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_message(message.clone()),
            None if !self.quiet => eprintln!("{message}"),
            None => {}
        }
        self.last = Some(message);
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Image pull progress: a bar per layer on a terminal, a line per layer status otherwise.
pub struct PullDisplay {
    multi: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    statuses: HashMap<String, String>,
    quiet: bool,
    json: bool,
    /// A build's line on a terminal: `[step/steps] the current line`.
    build: Option<ProgressBar>,
    step: String,
}

impl PullDisplay {
    pub fn new(ui: &Ui) -> PullDisplay {
        PullDisplay {
            multi: (ui.err_is_terminal && !ui.quiet)
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: HashMap::new(),
            statuses: HashMap::new(),
            quiet: ui.quiet,
            json: ui.json,
            build: None,
            step: String::new(),
        }
    }

    /// A line of a build: on a terminal the step and the current line (as Compose shows a
    /// build), plain lines when piped, an NDJSON object on stdout with `--json`.
    fn build_line(&mut self, line: &str) {
        if self.json {
            let object = serde_json::json!({ "build": { "line": line } });
            println!("{object}");
            return;
        }
        let Some(multi) = &self.multi else {
            eprintln!("{line}");
            return;
        };
        if let Some(step) = line.strip_prefix("Step ") {
            self.step = step.split(' ').next().unwrap_or_default().to_string();
            let _ = multi.println(line);
        }
        let bar = self.build.get_or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{prefix}] {wide_msg}")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        bar.set_prefix(self.step.clone());
        bar.set_message(line.to_string());
    }

    pub fn update(&mut self, progress: &ImageProgress) {
        if self.quiet {
            return;
        }
        match progress {
            ImageProgress::Status { message } => match &self.multi {
                Some(multi) => {
                    let _ = multi.println(message);
                }
                None => eprintln!("{message}"),
            },
            ImageProgress::Layer {
                id,
                status,
                current,
                total,
            } => match &self.multi {
                Some(multi) => {
                    let bar = self.bars.entry(id.clone()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new(0));
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{prefix:12} {msg:12} [{bar:30}] {bytes}/{total_bytes}",
                            )
                            .expect("valid template")
                            .progress_chars("=> "),
                        );
                        bar.set_prefix(id.clone());
                        bar
                    });
                    bar.set_length(*total);
                    bar.set_position(*current);
                    bar.set_message(status.clone());
                }
                None => {
                    if self.statuses.get(id) != Some(status) {
                        eprintln!("{id}: {status}");
                        self.statuses.insert(id.clone(), status.clone());
                    }
                }
            },
            ImageProgress::Output { line } => self.build_line(line),
            ImageProgress::Done { .. } | ImageProgress::Failed { .. } => {}
        }
    }

    pub fn finish(&self) {
        for bar in self.bars.values().chain(&self.build) {
            bar.finish_and_clear();
        }
    }
}
