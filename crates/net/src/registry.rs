//! The probe registry (being written).
