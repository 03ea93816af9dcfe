//! Statement validation against the xAPI rules (being written).
