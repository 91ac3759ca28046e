//! The `seam` process: started with a clean environment on a free port, recognised as ready by
//! its one stdout line, killed (gently or with `kill -9`) and restarted on the same storage.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use serde_json::json;

use super::{Agent, Api, Backend, EVENTUALLY, READY_GUARD, Session, Storage};

/// A `seam` command with a clean environment: no `SEAM_*` variable of the caller leaks in.
pub fn seam_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SEAM_") {
            command.env_remove(key);
        }
    }
    // Logs are read by people when a scenario fails: no colour codes.
    command.env("NO_COLOR", "1");
    command.stdin(Stdio::null());
    command
}

/// A running `seam serve` (or `seam demo`). Killed when dropped; what it logged is printed
/// when the scenario fails, to explain why.
pub struct SeamProcess {
    pub storage: Storage,
    pub base_url: String,
    /// Where its SMTP listener took mail (`127.0.0.1:port`), from its start-up lines.
    pub smtp_addr: String,
    child: Option<Child>,
    log: Arc<Mutex<VecDeque<String>>>,
    /// Everything printed on stdout, across restarts.
    stdout: Arc<Mutex<Vec<String>>>,
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
    subcommand: String,
    /// Whether the harness passes storage and listen addresses as flags (it usually does).
    with_flags: bool,
}

/// Starts `seam serve` on a fresh database.
pub async fn spawn_seam(backend: Backend) -> SeamProcess {
    SeamProcess::start(Storage::fresh(backend).await, "serve", &[], &[])
}

/// Starts `seam serve` on a fresh database with extra flags and environment variables.
pub async fn spawn_seam_with(backend: Backend, args: &[&str], env: &[(&str, &str)]) -> SeamProcess {
    SeamProcess::start(Storage::fresh(backend).await, "serve", args, env)
}

impl SeamProcess {
    pub fn start(
        storage: Storage,
        subcommand: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> SeamProcess {
        Self::launched(storage, subcommand, args, env, true)
    }

    /// Starts `seam <subcommand>` with only `args` and `env`: no storage or address flags, so
    /// that a scenario can configure it through the environment or a file instead.
    pub fn start_configured_by(
        storage: Storage,
        subcommand: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> SeamProcess {
        Self::launched(storage, subcommand, args, env, false)
    }

    fn launched(
        storage: Storage,
        subcommand: &str,
        args: &[&str],
        env: &[(&str, &str)],
        with_flags: bool,
    ) -> SeamProcess {
        let mut process = SeamProcess {
            storage,
            base_url: String::new(),
            smtp_addr: String::new(),
            child: None,
            log: Arc::new(Mutex::new(VecDeque::new())),
            stdout: Arc::new(Mutex::new(Vec::new())),
            extra_args: args.iter().map(|arg| arg.to_string()).collect(),
            extra_env: env
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
            subcommand: subcommand.to_string(),
            with_flags,
        };
        process.launch();
        process
    }

    /// Starts the server again on the same storage (after [`SeamProcess::kill_hard`]).
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none(),
            "restart needs the previous process gone"
        );
        self.launch();
    }

    fn launch(&mut self) {
        let mut command = seam_command();
        command
            .arg(&self.subcommand)
            .args(if self.with_flags {
                self.storage.args()
            } else {
                Vec::new()
            })
            .args(if self.with_flags {
                &["--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0"][..]
            } else {
                &[][..]
            })
            .args(&self.extra_args)
            .envs(self.extra_env.iter().map(|(key, value)| (key, value)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let (ready_tx, ready_rx) = mpsc::channel::<String>();

        let stdout = child.stdout.take().unwrap();
        let log = Arc::clone(&self.log);
        let printed = Arc::clone(&self.stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                remember(&log, format!("stdout: {line}"));
                printed.lock().unwrap().push(line.clone());
                let _ = ready_tx.send(line);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let log = Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                remember(&log, line);
            }
        });
        self.child = Some(child);

        let started = Instant::now();
        loop {
            let remaining = READY_GUARD.saturating_sub(started.elapsed());
            match ready_rx.recv_timeout(remaining.min(Duration::from_millis(200))) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("seam smtp on ") {
                        self.smtp_addr = addr.trim().to_string();
                    }
                    if let Some(url) = line.strip_prefix("seam listening on ") {
                        self.base_url = url.trim().trim_end_matches('/').to_string();
                        assert!(
                            self.base_url.starts_with("http://127.0.0.1:"),
                            "unexpected ready line: {line}"
                        );
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().unwrap())
            {
                panic!(
                    "seam {} exited with {status} before printing its ready line:\n{}",
                    self.subcommand,
                    self.log_tail()
                );
            }
            if started.elapsed() > READY_GUARD {
                panic!(
                    "seam {} printed no `seam listening on` line within {READY_GUARD:?}:\n{}",
                    self.subcommand,
                    self.log_tail()
                );
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// The extra flags the next [`SeamProcess::restart`] starts with (a changed configuration).
    pub fn set_args(&mut self, args: &[&str]) {
        self.extra_args = args.iter().map(|arg| arg.to_string()).collect();
    }

    /// `kill -9`: no chance to flush, finish requests or say goodbye.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            // It may already be dead (killed by pid elsewhere): then this only reaps it.
            let _ = Command::new("kill")
                .args(["-9", &child.id().to_string()])
                .status();
            child.wait().unwrap();
        }
    }

    /// `kill -TERM` and wait (up to a hang guard) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(status.unwrap().success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > EVENTUALLY {
                let _ = child.kill();
                panic!("seam did not exit after SIGTERM:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first stdout line starting with `prefix`, waiting for it up to the hang guard.
    pub async fn printed_line(&self, prefix: &str) -> String {
        super::eventually(
            &format!("a stdout line starting with {prefix:?}"),
            || async {
                self.stdout
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|line| line.starts_with(prefix))
                    .cloned()
            },
        )
        .await
    }

    pub fn log_tail(&self) -> String {
        self.log
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// `seam user create` on this server's storage, while it runs. Returns the printed user id.
    pub fn create_user(&self, workspace: &str, email: &str, password: &str, role: &str) -> String {
        let output = seam_command()
            .args(["user", "create", "--email", email, "--password", password])
            .args([
                "--name",
                "Test User",
                "--role",
                role,
                "--workspace",
                workspace,
            ])
            .args(["--region", "US"])
            .args(self.storage.args())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "seam user create failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let id = stdout
            .split_whitespace()
            .find(|word| uuid::Uuid::parse_str(word).is_ok())
            .unwrap_or_else(|| panic!("seam user create printed no user id: {stdout}"));
        id.to_string()
    }

    /// A fresh owner of `workspace`, logged in, holding an API token: the usual actor.
    pub async fn owner_of(&self, workspace: &str) -> Agent {
        let email = format!("owner-{}@{}.example", short_id(), slug(workspace));
        let password = "correct horse battery staple";
        let user_id = self.create_user(workspace, &email, password, "owner");
        let session = self.login(&email, password).await;
        let token = session.create_token("e2e").await;
        Agent {
            api: Api::bearer(&self.base_url, &token),
            user_id,
            email,
            workspace_id: session.user["workspace_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            token,
        }
    }

    /// Logs in through `POST /api/v1/auth/login`, expecting success.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let response = Api::anonymous(&self.base_url)
            .post(
                "/api/v1/auth/login",
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(response.status, 200, "login failed: {response:?}");
        Session::from_login(&self.base_url, &response)
    }
}

impl Drop for SeamProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- seam log ({}) ----\n{}\n---- end of seam log ----",
                self.base_url,
                self.log_tail()
            );
        }
    }
}

fn remember(log: &Mutex<VecDeque<String>>, line: String) {
    let mut log = log.lock().unwrap();
    if log.len() >= 400 {
        log.pop_front();
    }
    log.push_back(line);
}

pub fn short_id() -> String {
    // The tail of a UUIDv7 is random; its head is the clock.
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 12..].to_string()
}

fn slug(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}
