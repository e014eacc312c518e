//! Test support for `ews`: the loopback EWS simulator and the conformance suite.
