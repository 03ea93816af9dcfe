//! The one plugin value of a WebAssembly instance, made on its first call and kept between
//! calls (an instance is single-threaded and runs one call at a time).

use std::any::Any;
use std::cell::{Cell, RefCell};

thread_local! {
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    static PANIC_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Sends a panic's message to the host's log at `error` level before the call traps: on
/// wasm32-unknown-unknown standard error goes nowhere, and the host quotes a failed plugin's
/// last error in the 500 it answers.
fn report_panics() {
    if PANIC_HOOK.with(|set| set.replace(true)) {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        super::log(super::Level::Error, &info.to_string());
    }));
}

/// Runs `f` on the instance's plugin value, making it with `new` on the first call.
pub fn with_instance<T: 'static, R>(new: fn() -> T, f: impl FnOnce(&mut T) -> R) -> R {
    report_panics();
    INSTANCE.with(|slot| {
        let mut slot = slot.borrow_mut();
        if !slot.as_ref().is_some_and(|b| b.is::<T>()) {
            *slot = Some(Box::new(new()));
        }
        match slot.as_mut().and_then(|b| b.downcast_mut::<T>()) {
            Some(plugin) => f(plugin),
            // Unreachable: the slot was just filled with a T.
            None => f(&mut new()),
        }
    })
}
