//! What `micro run` prints: its own lines (`micro | ...`), each service's output prefixed
//! with its name in a colour of its own, and a status line while cargo builds (in a
//! terminal). Each service's output also goes to `MICRO_HOME/logs/NAME.log`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Colours of the name prefixes, in turn: cyan, magenta, yellow, green, blue, red.
const COLOURS: &[&str] = &["36", "35", "33", "32", "34", "31"];

/// The printer `micro run` and its service tasks share.
#[derive(Debug)]
pub(crate) struct Out {
    width: usize,
    colour: bool,
    terminal: bool,
    logs: PathBuf,
    /// A status line is on screen (to clear before the next line).
    status: Mutex<bool>,
}

impl Out {
    /// A printer for services with these names, writing logs under `logs`.
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a str>, logs: &Path) -> Out {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out {
            width: names
                .map(str::len)
                .chain(["micro".len()])
                .max()
                .unwrap_or(5),
            colour,
            terminal,
            logs: logs.to_path_buf(),
            status: Mutex::new(false),
        }
    }

    /// The log file of a service.
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// The log file of a service, opened to append.
    pub(crate) fn log_file(&self, name: &str) -> Option<std::fs::File> {
        std::fs::create_dir_all(&self.logs).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(name))
            .ok()
    }

    fn write(&self, line: &str) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        if *status {
            let _ = out.write_all(b"\r\x1b[2K");
            *status = false;
        }
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    /// One of `micro run`'s own lines.
    pub(crate) fn say(&self, text: &str) {
        for line in text.lines() {
            let prefix = format!("{:<w$} |", "micro", w = self.width);
            if self.colour {
                self.write(&format!("\x1b[1m{prefix}\x1b[0m {line}"));
            } else {
                self.write(&format!("{prefix} {line}"));
            }
        }
    }

    /// A line of the service at `index` in the plan (its colour).
    pub(crate) fn line(&self, name: &str, index: usize, line: &str) {
        let prefix = format!("{name:<w$} |", w = self.width);
        if self.colour {
            let c = COLOURS[index % COLOURS.len()];
            self.write(&format!("\x1b[{c}m{prefix}\x1b[0m {line}"));
        } else {
            self.write(&format!("{prefix} {line}"));
        }
    }

    /// A line that the next one replaces, in a terminal only.
    pub(crate) fn status(&self, text: &str) {
        if !self.terminal {
            return;
        }
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        let prefix = format!("{:<w$} |", "micro", w = self.width);
        let _ = write!(out, "\r\x1b[2K{prefix} {text}");
        let _ = out.flush();
        *status = true;
    }
}
