//! Small local stand-ins for remote services no test machine can install (OpenStack Swift with
//! Keystone, OVH Logs Data Platform): each implements exactly the documented endpoints the
//! toolbox uses, on 127.0.0.1 and a port of its own, and stops when dropped.

use std::net::SocketAddr;

pub mod ldp;
pub mod swift;

/// A tokio runtime in the background serving HTTP apps; dropping it stops them.
pub struct Background {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Background {
    /// A runtime with two worker threads.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Self {
            runtime: Some(runtime),
        }
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("running")
    }

    /// A TCP listener on 127.0.0.1 and a free port.
    pub fn listener(&self) -> (tokio::net::TcpListener, SocketAddr) {
        let listener = self
            .runtime()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        (listener, addr)
    }

    /// Serves `app` on `listener`.
    pub fn serve(&self, listener: tokio::net::TcpListener, app: axum::Router) {
        self.runtime().spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }

    /// Runs a task in the background.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.runtime().spawn(task);
    }
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
