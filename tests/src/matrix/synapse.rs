//! A real Synapse homeserver for the Matrix tests, started by the tests themselves.
//!
//! Synapse is installed from PyPI into a virtualenv kept outside the clone
//! (`$HOME/.cache/carebot-synapse/venv-<version>`, or `CAREBOT_SYNAPSE_VENV`), so only the
//! first run on a machine pays the ~30 s install. Each server gets its own folder, a free port
//! on 127.0.0.1, SQLite, rate limits raised, and a shared registration secret for making
//! users. It runs under a small `sh` guard that holds the server's exact pid and stops it when
//! the guard's stdin closes: when the test process ends, however it ends, the server it
//! started stops with it, and nothing else is touched.

use hmac::{Hmac, Mac};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The Synapse release the tests pin.
pub const VERSION: &str = "1.163.2";
const SECRET: &str = "carebot-test-registration-secret";

/// One running homeserver.
pub struct Synapse {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

/// The homeserver shared by every test in this process (started on first use).
pub fn shared() -> &'static Synapse {
    static SHARED: OnceLock<Synapse> = OnceLock::new();
    SHARED.get_or_init(|| Synapse::start_new().expect("Synapse starts"))
}

impl Synapse {
    /// Starts a homeserver of its own (for a test that stops and restarts it).
    pub fn start_new() -> Result<Self, String> {
        let python = venv()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        std::fs::write(dir.path().join("homeserver.yaml"), config(dir.path(), port))
            .map_err(|e| e.to_string())?;
        let status = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(dir.path().join("homeserver.yaml"))
            .arg("--generate-keys")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("running Synapse: {e}"))?;
        if !status.success() {
            return Err("Synapse could not generate its keys".into());
        }
        let synapse = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            guard: Mutex::new(None),
        };
        synapse.start()?;
        Ok(synapse)
    }

    /// Starts (or restarts) the server process and waits until it answers.
    pub fn start(&self) -> Result<(), String> {
        let python = venv()?;
        let cfg = self.dir.path().join("homeserver.yaml");
        let log = self.dir.path().join("synapse.out");
        let script = format!(
            "'{}' -m synapse.app.homeserver -c '{}' >>'{}' 2>&1 & pid=$!; read _; kill -TERM $pid; wait $pid",
            python.display(),
            cfg.display(),
            log.display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting Synapse: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        *self.guard.lock().map_err(|e| e.to_string())? = Some((child, stdin));
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.healthy() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = std::fs::read_to_string(log).unwrap_or_default();
        let tail: String = out.lines().rev().take(20).collect::<Vec<_>>().join("\n");
        Err(format!(
            "Synapse did not become healthy; last log lines:\n{tail}"
        ))
    }

    /// Stops the server process this harness started, and waits for it to go.
    pub fn stop(&self) {
        let taken = self.guard.lock().ok().and_then(|mut g| g.take());
        if let Some((mut child, stdin)) = taken {
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Makes the stopped server forget every transaction id it has seen, as a homeserver
    /// that keeps them only for a while does (Synapse keeps them 24 hours in its database).
    pub fn forget_transaction_ids(&self) -> Result<(), String> {
        let db = self.dir.path().join("homeserver.db");
        let script = format!(
            "import sqlite3; c = sqlite3.connect({:?}); c.execute('DELETE FROM event_txn_id_device_id'); c.commit()",
            db.display().to_string()
        );
        let status = Command::new(venv()?)
            .args(["-c", &script])
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| "could not clear Synapse's transaction ids".to_string())
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n";
        if s.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
    }

    /// Registers `localpart` (admin or not) with the shared secret; returns the user id.
    pub async fn register(&self, localpart: &str, password: &str, admin: bool) -> String {
        let http = matrix_sdk::reqwest::Client::new();
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: serde_json::Value = serde_json::from_str(
            &http
                .get(&url)
                .send()
                .await
                .expect("nonce")
                .text()
                .await
                .expect("nonce body"),
        )
        .expect("nonce json");
        let nonce = nonce["nonce"].as_str().expect("nonce field").to_string();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
        let admin_word = if admin { "admin" } else { "notadmin" };
        for (i, part) in [nonce.as_str(), localpart, password, admin_word]
            .iter()
            .enumerate()
        {
            if i > 0 {
                mac.update(b"\0");
            }
            mac.update(part.as_bytes());
        }
        let digest: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = serde_json::json!({
            "nonce": nonce, "username": localpart, "password": password,
            "admin": admin, "mac": digest,
        });
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("register");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "registering {localpart}: {status} {text}"
        );
        format!("@{localpart}:localhost")
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The virtualenv's python, installing Synapse on first use.
fn venv() -> Result<PathBuf, String> {
    let dir = std::env::var_os("CAREBOT_SYNAPSE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
            Path::new(&home)
                .join(".cache/carebot-synapse")
                .join(format!("venv-{VERSION}"))
        });
    let python = dir.join("bin/python");
    let ready = dir.join(".installed");
    if ready.exists() {
        return Ok(python);
    }
    // One installer at a time across processes: a lock file beside the venv.
    static INSTALL: Mutex<()> = Mutex::new(());
    let _held = INSTALL.lock().map_err(|e| e.to_string())?;
    if ready.exists() {
        return Ok(python);
    }
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    };
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir))
            .map_err(|e| format!("creating the Synapse venv: {e}"))?;
    }
    run(Command::new(dir.join("bin/pip")).args([
        "install",
        "--quiet",
        &format!("matrix-synapse=={VERSION}"),
    ]))
    .map_err(|e| format!("installing Synapse from PyPI: {e}"))?;
    std::fs::write(&ready, VERSION).map_err(|e| e.to_string())?;
    Ok(python)
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A homeserver for tests: `localhost`, no federation or presence, limits raised.
fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    let open = "{per_second: 10000, burst_count: 10000}";
    format!(
        r#"server_name: "localhost"
pid_file: {d}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
media_store_path: {d}/media
signing_key_path: {d}/signing.key
registration_shared_secret: "{SECRET}"
enable_registration: false
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
bcrypt_rounds: 4
presence:
  enabled: false
federation_domain_whitelist: []
macaroon_secret_key: "carebot-test-macaroon"
form_secret: "carebot-test-form"
rc_message: {open}
rc_login:
  address: {open}
  account: {open}
  failed_attempts: {open}
rc_registration: {open}
rc_joins:
  local: {open}
  remote: {open}
rc_invites:
  per_room: {open}
  per_user: {open}
  per_issuer: {open}
rc_3pid_validation: {open}
rc_admin_redaction: {open}
rc_room_creation: {open}
rc_key_requests: {open}
rc_media_create: {open}
"#
    )
}
