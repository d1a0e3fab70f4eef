"""The shared runtime test harness (runtimes spec section 9): one suite, every runtime, two modes."""
