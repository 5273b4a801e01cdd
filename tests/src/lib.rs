//! The QEMU runner used by every end-to-end scenario.
//!
//! A scenario is one boot: build the images once per test binary, boot them with
//! a command line, capture the serial console, and judge the run by both the
//! isa-debug-exit status and a verdict line on serial. A triple fault (status 0),
//! a timeout or a missing verdict line fails the scenario, and the report shows
//! the last lines the machine printed.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use xen_core::debug_exit::DebugExit;
use xtask::bundle::Bundle;
use xtask::images::{Images, Profile, build_images};
use xtask::qemu::QemuConfig;

/// The line the hypervisor prints last on a successful run.
pub const SUCCESS_VERDICT: &str = "*** hypervisor halted: success";
/// The line the hypervisor prints last on a failed run.
pub const FAILURE_VERDICT: &str = "*** hypervisor halted: failure";
/// The line the hypervisor prints last when dom0 crashed.
pub const GUEST_CRASHED_VERDICT: &str = "*** hypervisor halted: dom0 crashed";
/// How long one boot may take before it counts as hung. Generous: CI machines
/// run several TCG boots at once on two cores.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How many serial lines a failure report shows.
const TAIL_LINES: usize = 40;

/// The release images, built once per test binary.
pub fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| build_images(Profile::Release).unwrap_or_else(|e| panic!("building images: {e}")))
}

/// One boot to run.
pub struct Boot {
    config: QemuConfig,
    timeout: Duration,
    input: Option<(String, Vec<u8>)>,
}

impl Boot {
    /// A boot of the default images with `command_line`.
    pub fn new(command_line: &str) -> Self {
        let images = images();
        let mut config = QemuConfig::new(images.hypervisor.clone(), Some(images.bundle.clone()));
        config.command_line = command_line.to_string();
        Boot {
            config,
            timeout: DEFAULT_TIMEOUT,
            input: None,
        }
    }

    /// Boots the example guest `guest` (a folder of `guest-sdk/examples/`)
    /// alone as dom0, with `xtask::images::ALONE_AS_DOM0`.
    pub fn with_guest(mut self, guest: &str) -> Self {
        let bundle = images()
            .bundle_for(guest)
            .unwrap_or_else(|| panic!("no example guest named {guest} in guest-sdk/examples/"));
        self.config.bundle = Some(bundle);
        self
    }

    /// Boots the domains of `bundle`, which the scenario declares beside
    /// its test.
    pub fn with_domains(mut self, bundle: &Bundle) -> Self {
        let path = images()
            .write(bundle)
            .unwrap_or_else(|e| panic!("writing bundle {}: {e}", bundle.name));
        self.config.bundle = Some(path);
        self
    }

    /// Boots the domains of `bundle` with `files` beside their images: the
    /// boot modules its domains name with `ramdisk=`.
    pub fn with_domains_and_files(mut self, bundle: &Bundle, files: &[(&str, &[u8])]) -> Self {
        let path = images()
            .write_with_files(bundle, files)
            .unwrap_or_else(|e| panic!("writing bundle {}: {e}", bundle.name));
        self.config.bundle = Some(path);
        self
    }

    /// Boots with another bundle (or none).
    pub fn with_bundle(mut self, bundle: Option<PathBuf>) -> Self {
        self.config.bundle = bundle;
        self
    }

    /// Boots with `mib` MiB of RAM.
    pub fn with_memory(mut self, mib: u32) -> Self {
        self.config.memory_mib = mib;
        self
    }

    /// Gives up on the boot after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the guest on an instruction clock (`-icount shift=0,align=off,sleep=off`):
    /// its time (TSC, APIC timer, PIT) advances 1 ns per guest instruction,
    /// and jumps ahead while every vCPU idles. A scenario that checks
    /// deadlines then measures the hypervisor, not the host: on QEMU's
    /// host-time clock, a host that preempts QEMU for a few milliseconds
    /// makes a wake-up look that late.
    pub fn with_instruction_clock(mut self) -> Self {
        self.config
            .extra_args
            .extend(["-icount", "shift=0,align=off,sleep=off"].map(String::from));
        self
    }

    /// Types `input` on the serial console (QEMU's stdin) once a serial
    /// line contains `prompt`, as someone at the console would: bytes sent
    /// before the hypervisor set up its UART would be lost.
    pub fn with_input_after(mut self, prompt: &str, input: &[u8]) -> Self {
        self.input = Some((prompt.to_string(), input.to_vec()));
        self
    }

    /// Runs QEMU to its end or to the timeout.
    pub fn run(&self) -> Outcome {
        run_command_with_input(self.config.command(), self.timeout, self.input.clone())
    }
}

/// Runs any QEMU command (ours, or real Xen's) to its end or to `timeout`,
/// capturing serial.
pub fn run_command(command: Command, timeout: Duration) -> Outcome {
    run_command_with_input(command, timeout, None)
}

/// [`run_command`], and when a serial line contains the prompt of `input`,
/// its bytes written to QEMU's stdin (the serial port's input with
/// `-serial stdio`).
fn run_command_with_input(mut command: Command, timeout: Duration, input: Option<(String, Vec<u8>)>) -> Outcome {
    let started = Instant::now();
    let mut child = command
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start qemu-system-x86_64 (Debian package qemu-system-x86): {e}"));
    let typist = child.stdin.take().zip(input);
    let lines = read_lines(&mut child, typist);
    let status = wait_with_timeout(&mut child, timeout);
    let elapsed = started.elapsed();
    // The reader threads end when QEMU's pipes close.
    let serial: Vec<String> = lines.iter().collect();
    Outcome {
        status,
        serial,
        elapsed,
    }
}

/// Collects stdout and stderr lines on reader threads; `typist` (QEMU's
/// stdin, a prompt and input) types the input after the prompt. Its stdin
/// stays open until QEMU ends: at end of file QEMU would stop reading.
fn read_lines(child: &mut Child, mut typist: Option<(ChildStdin, (String, Vec<u8>))>) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let out_sender = sender.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((stdin, (prompt, input))) = typist.as_mut()
                && line.contains(prompt.as_str())
            {
                let _ = stdin.write_all(input);
                let _ = stdin.flush();
                input.clear();
            }
            let _ = out_sender.send(line.trim_end_matches('\r').to_string());
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(format!("[qemu stderr] {line}"));
        }
    });
    receiver
}

/// Polls the child every 5 ms; kills it at the timeout (then `None`).
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for qemu") {
            return Some(status.code().unwrap_or(-1));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How a boot ended.
pub struct Outcome {
    /// QEMU's exit status, `None` after a timeout.
    pub status: Option<i32>,
    /// Every line printed on serial (and QEMU's stderr, tagged).
    pub serial: Vec<String>,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Outcome {
    /// The verdict QEMU's status stands for.
    pub fn verdict(&self) -> Option<DebugExit> {
        self.status.and_then(DebugExit::from_qemu_status)
    }

    /// Whether some serial line contains `text`.
    pub fn printed(&self, text: &str) -> bool {
        self.serial.iter().any(|line| line.contains(text))
    }

    /// The first serial line containing `text`.
    pub fn line_with(&self, text: &str) -> Option<&str> {
        self.serial.iter().find(|line| line.contains(text)).map(String::as_str)
    }

    /// Panics with the tail of serial unless the run ended with `verdict`, both
    /// by exit status and by its verdict line.
    pub fn expect_verdict(&self, verdict: DebugExit) {
        let line = match verdict {
            DebugExit::Success => SUCCESS_VERDICT,
            DebugExit::Failure => FAILURE_VERDICT,
            DebugExit::GuestCrashed => GUEST_CRASHED_VERDICT,
        };
        let problem = match self.status {
            None => Some("timed out (hung, or too slow)".to_string()),
            Some(0) => Some("exit status 0: the machine triple-faulted".to_string()),
            Some(_) if self.verdict() != Some(verdict) => Some(format!(
                "exit status {:?}, expected {}",
                self.status,
                verdict.qemu_status()
            )),
            Some(_) if !self.printed(line) => Some(format!("no verdict line `{line}` on serial")),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            panic!(
                "{problem} after {:?}; last serial lines:\n{}",
                self.elapsed,
                self.tail()
            );
        }
    }

    /// The number after `label` in the first line containing `label`.
    pub fn number_after(&self, label: &str) -> u64 {
        let line = self.expect_line(label);
        let rest = &line[line.find(label).unwrap_or(0) + label.len()..];
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no number after {label:?} in {line:?}"))
    }

    /// Panics with the tail of serial unless some line contains `text`.
    pub fn expect_line(&self, text: &str) -> &str {
        self.line_with(text)
            .unwrap_or_else(|| panic!("no serial line contains `{text}`; last serial lines:\n{}", self.tail()))
    }

    /// The last lines printed, for failure reports.
    pub fn tail(&self) -> String {
        let start = self.serial.len().saturating_sub(TAIL_LINES);
        self.serial[start..].join("\n")
    }
}
