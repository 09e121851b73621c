//! Network diagrams of a plan (being written).
