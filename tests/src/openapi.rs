//! Reading a service's route table from its source, to check that every route is added
//! through `utoipa_axum::routes!` — which puts it in the OpenAPI document — and nothing is
//! routed past it. Used by the unit tests of the box's and central's documents.

/// Calls that would add a route without its documentation.
pub const UNDOCUMENTED: &[&str] = &[
    ".route(",
    ".route_service(",
    ".nest(",
    ".nest_service(",
    ".merge(",
    ".fallback_service(",
];

/// The code lines of `src` (comments dropped).
fn code(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim().is_empty())
}

/// Lines of `src` that add a route past `routes!`.
pub fn undocumented(src: &str) -> Vec<String> {
    code(src)
        .filter(|l| UNDOCUMENTED.iter().any(|c| l.contains(c)))
        .map(|l| l.trim().to_owned())
        .collect()
}

/// The handlers `src` names in `routes!(…)`, in order.
pub fn handlers(src: &str) -> Vec<String> {
    let code: String = code(src).collect::<Vec<_>>().join(" ");
    code.split("routes!(")
        .skip(1)
        .flat_map(|rest| {
            let list = rest.split(')').next().unwrap_or("");
            list.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `(METHOD path, operationId)` of every operation of an OpenAPI document.
pub fn operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            out.push((
                format!("{} {path}", method.to_uppercase()),
                op["operationId"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_added_past_routes_is_caught() {
        let src = "OpenApiRouter::new()\n    .routes(routes!(a::b, a::c))\n    // .route(\"/old\", get(x)) in a comment\n    .route(\"/new\", get(new_handler))\n    .routes(routes!(d))\n";
        assert_eq!(
            undocumented(src),
            vec![".route(\"/new\", get(new_handler))".to_owned()]
        );
        assert_eq!(handlers(src), vec!["a::b", "a::c", "d"]);
    }
}
