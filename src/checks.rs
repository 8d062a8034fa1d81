//! Checks of one config value: each returns the key path at fault and what is allowed there,
//! which the config loader turns into `file: key: message`. The config sections and the
//! optimizers' and schedules' settings (`src/optim/`) share them.

/// A check's outcome: on failure, the key path at fault and what is allowed there.
pub type Check = std::result::Result<(), (&'static str, String)>;

pub fn positive(key: &'static str, value: f64) -> Check {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err((
            key,
            format!("must be a positive finite number, got {value}"),
        ))
    }
}

pub fn non_negative(key: &'static str, value: f64) -> Check {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err((key, format!("must be a finite number ≥ 0, got {value}")))
    }
}

/// A list of column or class names: not empty, no empty name, no name twice.
pub fn check_names(key: &'static str, names: &[String]) -> Check {
    if names.is_empty() {
        return Err((key, "must list at least one name".into()));
    }
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err((key, format!("entry {} is empty", i + 1)));
        }
        if names[..i].contains(name) {
            return Err((key, format!("lists {name:?} twice")));
        }
    }
    Ok(())
}

pub fn in_unit_interval(key: &'static str, value: f64) -> Check {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err((key, format!("must be in [0, 1), got {value}")))
    }
}

pub fn open_unit_interval(key: &'static str, value: f64) -> Check {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err((key, format!("must be in (0, 1), got {value}")))
    }
}

/// A count of at least one.
pub fn at_least_one(key: &'static str, value: u64) -> Check {
    if value >= 1 {
        Ok(())
    } else {
        Err((key, format!("must be ≥ 1, got {value}")))
    }
}
