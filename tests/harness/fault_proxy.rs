//! A TCP proxy between toolbox and the API server that a test can break on
//! purpose: cut every connection, refuse new ones for a while or for good,
//! go silent (a black hole), or slow everything down. It runs on threads of its own, so that a test
//! blocked on a child process does not stall it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Forwards 127.0.0.1:PORT to the API server until told to fail.
///
/// The apiserver's certificate names 127.0.0.1, so a kubeconfig that points
/// at the proxy ([`FaultProxy::kubeconfig`]) works with the same CA.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Told when the proxy stops being silent, so that what waits for it
    /// wakes at once.
    unsilenced: Arc<Condvar>,
    /// Told each time a client's chunk arrives.
    client_sent: Arc<Condvar>,
    stopped: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    /// New connections are refused (the port is closed) until then; `None`
    /// with `down` set means for good.
    refuse_until: Option<Instant>,
    down: bool,
    /// Nothing is forwarded and nothing is closed, as when Wi-Fi drops or
    /// a laptop sleeps: what was sent waits, as TCP's retransmissions
    /// would, until [`FaultProxy::restore`].
    silent: bool,
    latency: Duration,
    /// How many chunks the proxy has read from its clients so far.
    chunks_from_clients: u64,
    /// Both sockets of every open connection, to cut them.
    open: Vec<(TcpStream, TcpStream)>,
}

impl State {
    fn refusing(&self) -> bool {
        self.down || self.refuse_until.is_some_and(|t| Instant::now() < t)
    }
}

impl FaultProxy {
    /// A proxy to the local cluster's API server.
    pub fn to_cluster() -> FaultProxy {
        let server = &crate::cluster().server;
        let host_port = server
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let upstream: SocketAddr = host_port
            .parse()
            .unwrap_or_else(|e| panic!("server {server} is not an address: {e}"));
        FaultProxy::to(upstream)
    }

    /// A proxy to `upstream`.
    pub fn to(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fault proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(Mutex::new(State::default()));
        let stopped = Arc::new(AtomicBool::new(false));
        let unsilenced = Arc::new(Condvar::new());
        let client_sent = Arc::new(Condvar::new());
        let shared = Shared {
            state: state.clone(),
            unsilenced: unsilenced.clone(),
            client_sent: client_sent.clone(),
        };
        let stopped2 = stopped.clone();
        std::thread::spawn(move || accept_loop(Some(listener), addr, upstream, shared, stopped2));
        FaultProxy {
            addr,
            state,
            unsilenced,
            client_sent,
            stopped,
        }
    }

    /// The URL to give clients: `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The admin kubeconfig of the cluster with its server replaced by this
    /// proxy, written to a file of its own.
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig_from(&crate::cluster().kubeconfig)
    }

    /// `kubeconfig` with the cluster's server replaced by this proxy.
    pub fn kubeconfig_from(&self, kubeconfig: &Path) -> PathBuf {
        let server = &crate::cluster().server;
        let text = std::fs::read_to_string(kubeconfig).expect("reading kubeconfig");
        assert!(
            text.contains(server.as_str()),
            "{kubeconfig:?} names no {server}"
        );
        let path = std::env::temp_dir().join(format!(
            "fault-proxy-{}-{}.kubeconfig",
            self.addr.port(),
            crate::random_suffix()
        ));
        std::fs::write(&path, text.replace(server.as_str(), &self.url()))
            .expect("writing kubeconfig");
        path
    }

    /// Closes every open connection at once, both ways, as a restarted
    /// server or a dropped route would.
    pub fn cut(&self) {
        let open = std::mem::take(&mut self.lock().open);
        for (client, server) in open {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }

    /// Refuses new connections (the port is closed) for `duration`.
    pub fn refuse_for(&self, duration: Duration) {
        let mut state = self.lock();
        state.down = false;
        state.refuse_until = Some(Instant::now() + duration);
    }

    /// Cuts every connection and refuses new ones until [`FaultProxy::restore`].
    pub fn stay_down(&self) {
        self.lock().down = true;
        self.cut();
    }

    /// Stops forwarding either way on every connection, open or new, and
    /// closes none: a black hole. New connections complete TCP's handshake
    /// (the kernel's listen backlog does that) and then hear nothing.
    pub fn go_silent(&self) {
        self.lock().silent = true;
    }

    /// Accepts and forwards again, at once; what a silence held back goes
    /// on, in order.
    pub fn restore(&self) {
        let mut state = self.lock();
        state.down = false;
        state.silent = false;
        state.refuse_until = None;
        self.unsilenced.notify_all();
    }

    /// Delays every chunk forwarded either way by `latency` (zero: none).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// How many chunks the proxy has read from its clients so far, counted
    /// as they arrive, before any latency or silence holds them.
    pub fn chunks_from_clients(&self) -> u64 {
        self.lock().chunks_from_clients
    }

    /// Waits until a client has sent something since the proxy had read
    /// `seen` chunks from clients ([`FaultProxy::chunks_from_clients`]):
    /// the request a test waits for has left the client, whatever the proxy
    /// then does with it. Panics after `timeout`.
    pub fn wait_for_client_chunk_after(&self, seen: u64, timeout: Duration) {
        let (state, waited) = self
            .client_sent
            .wait_timeout_while(self.lock(), timeout, |s| s.chunks_from_clients <= seen)
            .unwrap_or_else(|e| e.into_inner());
        drop(state);
        assert!(
            !waited.timed_out(),
            "no client sent anything through the proxy within {timeout:?}"
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Held chunks are let go, so that no pump waits for ever.
        self.lock().silent = false;
        self.unsilenced.notify_all();
        self.cut();
    }
}

/// What the proxy's threads share: its state, and word of the end of a
/// silence.
#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    unsilenced: Arc<Condvar>,
    client_sent: Arc<Condvar>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_while_silent(&self) {
        drop(
            self.unsilenced
                .wait_while(self.lock(), |s| s.silent)
                .unwrap_or_else(|e| e.into_inner()),
        );
    }
}

/// Accepts while up; while refusing, the listener is closed so that clients
/// see "connection refused", then bound again on the same port.
fn accept_loop(
    mut listener: Option<TcpListener>,
    addr: SocketAddr,
    upstream: SocketAddr,
    shared: Shared,
    stopped: Arc<AtomicBool>,
) {
    let lock = || shared.lock();
    while !stopped.load(Ordering::SeqCst) {
        let refusing = lock().refusing();
        if refusing {
            listener = None;
        } else if listener.is_none() {
            // SO_REUSEADDR (std sets it on Unix) lets the port be bound again.
            listener = TcpListener::bind(addr).ok();
            if let Some(l) = &listener {
                let _ = l.set_nonblocking(true);
            }
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        // Left in the backlog while silent: connected for the client, and
        // hearing nothing.
        shared.wait_while_silent();
        let _ = l.set_nonblocking(true);
        match l.accept() {
            Ok((client, _)) => {
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let pair = (
                    client.try_clone().expect("cloning a socket"),
                    server.try_clone().expect("cloning a socket"),
                );
                lock().open.push(pair);
                spawn_pump(
                    client.try_clone().expect("cloning a socket"),
                    server.try_clone().expect("cloning a socket"),
                    shared.clone(),
                    true,
                );
                spawn_pump(server, client, shared.clone(), false);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Copies one direction until either side closes or the proxy cuts it;
/// `from_client` says which, for [`FaultProxy::chunks_from_clients`].
fn spawn_pump(mut from: TcpStream, mut to: TcpStream, shared: Shared, from_client: bool) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if from_client {
                shared.lock().chunks_from_clients += 1;
                shared.client_sent.notify_all();
            }
            // A chunk read just as the proxy went silent is held, not lost.
            shared.wait_while_silent();
            let latency = shared.lock().latency;
            if !latency.is_zero() {
                std::thread::sleep(latency);
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
