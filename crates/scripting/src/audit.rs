//! The size of everything a run's variables hold, measured every millisecond or so.
//!
//! Rhai checks the size of a value when it is built or assigned as a whole, but when one
//! item of an array or map is assigned, it checks the item only: after `a[i] = big`, `big`
//! was checked, not `a`. A loop of such assignments grows `a` past every limit, a copy of
//! `big` per turn, in a handful of operations each: 90,000 copies of a 90,000-item array
//! would take 130 GB, long before any deadline.
//!
//! So, once per [`ScriptLimits::audit_interval`] of run time, when the script next looks a
//! variable up, every value in the scope is measured the way Rhai measures one (items of
//! arrays and BLOBs, members of maps, bytes of strings, nested ones included): each must be
//! within the limits, and all of them together within [`TOTAL_FACTOR`] times the limits (a
//! message is bound twice, as its members and as `msg`).
//!
//! What can escape is what the script allocates between two audits. Copying memory takes
//! time, so within a millisecond that is a few MB, plus at most the items assigned by the
//! operations between two looks at the clock ([`crate::CLOCK_EVERY`] of them), each within
//! the limits as Rhai checked it. Measuring by time rather than by operations keeps the cost
//! in proportion: an audit walks every value, which for a script over 100,000 items takes
//! about a millisecond, but a script that runs for less than the interval is never audited.

use rhai::{Dynamic, EvalAltResult, Position, Scope};

use crate::ScriptLimits;

/// How many times the limits all variables together may hold.
pub(crate) const TOTAL_FACTOR: usize = 4;

/// What Rhai calls its size errors; [`crate::errors`] turns them into messages.
pub(crate) const STRING: &str = "Length of string";
pub(crate) const ARRAY: &str = "Size of array/BLOB";
pub(crate) const MAP: &str = "Size of object map";
pub(crate) const TOTAL_STRINGS: &str = "weir: total length of strings";
pub(crate) const TOTAL_ARRAYS: &str = "weir: total size of arrays";
pub(crate) const TOTAL_MAPS: &str = "weir: total size of object maps";

/// Array items, map members and string bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    items: usize,
    members: usize,
    bytes: usize,
}

pub(crate) fn audit(scope: &Scope, limits: &ScriptLimits) -> Result<(), Box<EvalAltResult>> {
    let mut total = Sizes::default();
    for (_, _, value) in scope.iter_raw() {
        let sizes = measure(value);
        check(sizes, limits, 1, [STRING, ARRAY, MAP])?;
        total.items += sizes.items;
        total.members += sizes.members;
        total.bytes += sizes.bytes;
    }
    check(
        total,
        limits,
        TOTAL_FACTOR,
        [TOTAL_STRINGS, TOTAL_ARRAYS, TOTAL_MAPS],
    )
}

fn check(
    sizes: Sizes,
    limits: &ScriptLimits,
    factor: usize,
    [strings, arrays, maps]: [&str; 3],
) -> Result<(), Box<EvalAltResult>> {
    // 0 is no limit, as in Rhai.
    let over = |size: usize, limit: usize| limit > 0 && size > limit.saturating_mul(factor);
    let what = if over(sizes.bytes, limits.max_string_size) {
        strings
    } else if over(sizes.items, limits.max_array_size) {
        arrays
    } else if over(sizes.members, limits.max_map_size) {
        maps
    } else {
        return Ok(());
    };
    Err(EvalAltResult::ErrorDataTooLarge(what.into(), Position::NONE).into())
}

/// The sizes of `value` and of all it holds. Recursive, like Rhai's own walks over nested
/// values, and run on the same large stack, where each level takes far less than theirs.
fn measure(value: &Dynamic) -> Sizes {
    let mut sizes = Sizes::default();
    add(value, &mut sizes);
    sizes
}

fn add(value: &Dynamic, sizes: &mut Sizes) {
    // The `is_` checks look at the variant only: cheap for the numbers that make up most
    // large values.
    if value.is_array()
        && let Ok(array) = value.as_array_ref()
    {
        sizes.items += array.len();
        for item in array.iter() {
            add(item, sizes);
        }
    } else if value.is_map()
        && let Ok(map) = value.as_map_ref()
    {
        sizes.members += map.len();
        for member in map.values() {
            add(member, sizes);
        }
    } else if value.is_string()
        && let Ok(string) = value.as_immutable_string_ref()
    {
        sizes.bytes += string.len();
    } else if value.is_blob()
        && let Ok(blob) = value.as_blob_ref()
    {
        sizes.items += blob.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_nested_values_as_rhai_does() {
        let mut map = rhai::Map::new();
        map.insert("a".into(), Dynamic::from("four"));
        map.insert("b".into(), Dynamic::from_blob(vec![1, 2, 3]));
        let value = Dynamic::from_array(vec![
            Dynamic::from_map(map),
            Dynamic::from_int(1),
            Dynamic::from_array(vec![Dynamic::UNIT]),
        ]);
        assert_eq!(
            measure(&value),
            Sizes {
                items: 3 + 3 + 1,
                members: 2,
                bytes: 4,
            }
        );
    }

    #[test]
    fn each_value_and_all_together_are_checked() {
        let limits = ScriptLimits {
            max_array_size: 10,
            ..ScriptLimits::default()
        };
        let array = |items: usize| Dynamic::from_array(vec![Dynamic::UNIT; items]);
        let mut scope = Scope::new();
        scope.push_dynamic("a", array(10));
        scope.push_dynamic("b", array(10));
        assert!(audit(&scope, &limits).is_ok());
        scope.push_dynamic("c", array(11));
        let error = audit(&scope, &limits).unwrap_err();
        assert!(matches!(*error, EvalAltResult::ErrorDataTooLarge(ref what, _) if what == ARRAY));
        scope.rewind(2);
        scope.push_dynamic("c", array(10));
        scope.push_dynamic("d", array(10));
        scope.push_dynamic("e", array(1));
        let error = audit(&scope, &limits).unwrap_err();
        assert!(
            matches!(*error, EvalAltResult::ErrorDataTooLarge(ref what, _) if what == TOTAL_ARRAYS)
        );
    }
}
