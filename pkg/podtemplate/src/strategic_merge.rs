//! A strategic-merge patch of one JSON container onto another: the subset of
//! apimachinery's strategic merge that a `core/v1` Container needs.
//!
//! Rules, as apimachinery applies them to a Container:
//! - objects merge key by key, recursively; a `null` in the patch deletes the key;
//! - a list whose field declares a patch merge key (`env` by `name`, `volumeMounts` by
//!   `mountPath`, `ports` by `containerPort`, `volumeDevices` by `devicePath`) merges
//!   element by element; elements new to the list are placed the way apimachinery
//!   orders them (see [`merge_keyed_lists`]);
//! - every other list (`command`, `args`, `envFrom`, capability `add`/`drop`,
//!   resource `claims`, ...) and every scalar is replaced by the patch.
//!
//! Not supported, because a typed Container can never carry them: `$patch`,
//! `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList` directives.

use serde_json::{Map, Value};

/// The Container list fields that merge element-wise, with their merge keys.
const CONTAINER_MERGE_KEYS: [(&str, &str); 4] = [
    ("env", "name"),
    ("volumeMounts", "mountPath"),
    ("ports", "containerPort"),
    ("volumeDevices", "devicePath"),
];

/// Merges `patch` onto `original`, both serialized Containers.
pub(crate) fn merge_container(
    original: &mut Map<String, Value>,
    patch: Map<String, Value>,
) -> Result<(), String> {
    merge_objects(original, patch, &CONTAINER_MERGE_KEYS)
}

/// `merge_keys` applies to this object's own fields only: no type nested inside a
/// Container declares merge keys of its own.
fn merge_objects(
    original: &mut Map<String, Value>,
    patch: Map<String, Value>,
    merge_keys: &[(&str, &str)],
) -> Result<(), String> {
    for (field, patch_value) in patch {
        if patch_value.is_null() {
            original.remove(&field);
            continue;
        }
        let merge_key = merge_keys
            .iter()
            .find(|(list_field, _)| *list_field == field)
            .map(|(_, key)| *key);
        let slot = original.entry(field.clone()).or_insert(Value::Null);
        match (slot, patch_value, merge_key) {
            (Value::Object(original_object), Value::Object(patch_object), _) => {
                merge_objects(original_object, patch_object, &[])?;
            }
            (Value::Array(original_list), Value::Array(patch_list), Some(key)) => {
                let merged = merge_keyed_lists(std::mem::take(original_list), patch_list, key)
                    .map_err(|problem| format!("`{field}`: {problem}"))?;
                *original_list = merged;
            }
            (slot, patch_value, _) => *slot = patch_value,
        }
    }
    Ok(())
}

/// Merges two lists of objects identified by `key`.
///
/// Matching elements merge in place; unmatched patch elements are added. The order
/// then follows apimachinery: patch elements keep the patch's order, original-only
/// elements keep the original order, and the two are interleaved by original position,
/// with an element new to the list going before the remaining original-only ones
/// (e.g. original `[A, B]` patched with `[C]` gives `[C, A, B]`).
fn merge_keyed_lists(
    original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<Vec<Value>, String> {
    let original_keys = original
        .iter()
        .map(|element| key_of(element, key))
        .collect::<Result<Vec<_>, _>>()?;
    let patch_keys = patch
        .iter()
        .map(|element| key_of(element, key))
        .collect::<Result<Vec<_>, _>>()?;

    let mut merged = original;
    let mut merged_keys = original_keys.clone();
    for (patch_element, patch_key) in patch.into_iter().zip(&patch_keys) {
        let existing = merged_keys.iter().position(|k| k == patch_key);
        match (existing, patch_element) {
            (Some(index), Value::Object(patch_object)) => {
                if let Value::Object(original_object) = &mut merged[index] {
                    merge_objects(original_object, patch_object, &[])?;
                }
            }
            (_, patch_element) => {
                merged.push(patch_element);
                merged_keys.push(patch_key.clone());
            }
        }
    }

    let position_in = |keys: &[Value], wanted: &Value| keys.iter().position(|k| k == wanted);
    let (mut from_patch, mut original_only): (Vec<_>, Vec<_>) = merged
        .into_iter()
        .zip(merged_keys)
        .partition(|(_, element_key)| patch_keys.contains(element_key));
    from_patch.sort_by_key(|(_, element_key)| position_in(&patch_keys, element_key));
    original_only.sort_by_key(|(_, element_key)| position_in(&original_keys, element_key));

    let mut result = Vec::with_capacity(from_patch.len() + original_only.len());
    let mut from_patch = from_patch.into_iter().peekable();
    let mut original_only = original_only.into_iter().peekable();
    loop {
        let take_original = match (original_only.peek(), from_patch.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((_, left_key)), Some((_, right_key))) => {
                match (
                    position_in(&original_keys, left_key),
                    position_in(&original_keys, right_key),
                ) {
                    (Some(left), Some(right)) => left < right,
                    _ => false,
                }
            }
        };
        let next = if take_original {
            original_only.next()
        } else {
            from_patch.next()
        };
        if let Some((element, _)) = next {
            result.push(element);
        }
    }
    Ok(result)
}

fn key_of(element: &Value, key: &str) -> Result<Value, String> {
    match element.get(key) {
        Some(value) if !value.is_null() => Ok(value.clone()),
        _ => Err(format!(
            "an element has no `{key}`, which identifies elements: {element}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(original: Value, patch: Value) -> Value {
        let (Value::Object(mut original), Value::Object(patch)) = (original, patch) else {
            panic!("test inputs must be objects");
        };
        merge_container(&mut original, patch).expect("merge");
        Value::Object(original)
    }

    fn env_names(container: &Value) -> Vec<&str> {
        container["env"]
            .as_array()
            .expect("env list")
            .iter()
            .map(|e| e["name"].as_str().expect("name"))
            .collect()
    }

    #[test]
    fn env_merges_by_name_and_new_entries_go_first() {
        let result = merged(
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]}),
        );
        assert_eq!(env_names(&result), ["C", "A", "B"]);
        assert_eq!(result["env"][1]["value"], "9");
    }

    #[test]
    fn patch_elements_after_original_ones_keep_original_first() {
        let result = merged(
            json!({"env": [{"name": "A"}, {"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "B", "value": "x"}, {"name": "C"}]}),
        );
        assert_eq!(env_names(&result), ["A", "B", "C"]);
        assert_eq!(result["env"][1]["value"], "x");
    }

    #[test]
    fn matched_elements_merge_field_by_field() {
        let result = merged(
            json!({"volumeMounts": [{"name": "host-root", "mountPath": "/host"}]}),
            json!({"volumeMounts": [{"mountPath": "/host", "readOnly": true}]}),
        );
        assert_eq!(
            result["volumeMounts"],
            json!([{"name": "host-root", "mountPath": "/host", "readOnly": true}])
        );
    }

    #[test]
    fn unkeyed_lists_are_replaced() {
        let result = merged(
            json!({"securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}}),
            json!({"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}, "runAsUser": 0}}),
        );
        assert_eq!(
            result["securityContext"],
            json!({"capabilities": {"add": ["SYS_PTRACE"]}, "runAsUser": 0})
        );
    }

    #[test]
    fn nested_objects_merge_and_scalars_replace() {
        let result = merged(
            json!({"resources": {"limits": {"cpu": "1"}}, "securityContext": {"privileged": true}}),
            json!({"resources": {"limits": {"memory": "1Gi"}}, "securityContext": {"privileged": false}}),
        );
        assert_eq!(
            result,
            json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}, "securityContext": {"privileged": false}})
        );
    }

    #[test]
    fn null_deletes_a_field() {
        let result = merged(
            json!({"securityContext": {"privileged": true}}),
            json!({"securityContext": null}),
        );
        assert_eq!(result, json!({}));
    }

    #[test]
    fn keyed_elements_without_their_key_are_an_error() {
        let Value::Object(mut original) = json!({"env": [{"name": "A"}]}) else {
            unreachable!()
        };
        let Value::Object(patch) = json!({"env": [{"value": "1"}]}) else {
            unreachable!()
        };
        let error = merge_container(&mut original, patch).expect_err("missing key");
        assert!(
            error.contains("`env`") && error.contains("`name`"),
            "{error}"
        );
    }
}
