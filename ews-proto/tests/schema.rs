//! The enumerations this crate mirrors match Microsoft's schema in `../shared/ews-schema`.

use ews_proto::ResponseCode;

fn enumeration(file: &str, type_name: &str) -> Vec<String> {
    let path = format!(
        "{}/../../shared/ews-schema/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let xsd = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = xsd
        .find(&format!("<xs:simpleType name=\"{type_name}\">"))
        .unwrap_or_else(|| panic!("{type_name} in {file}"));
    let end = start + xsd[start..].find("</xs:simpleType>").expect("closed");
    xsd[start..end]
        .split("<xs:enumeration value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn response_codes_are_exactly_the_schemas() {
    let schema = enumeration("messages.xsd", "ResponseCodeType");
    let ours: Vec<&str> = ResponseCode::ALL.iter().map(ResponseCode::as_str).collect();
    assert_eq!(ours, schema);
    for code in &schema {
        assert_eq!(ResponseCode::from_wire(code).as_str(), code);
        assert!(
            !matches!(ResponseCode::from_wire(code), ResponseCode::Other(_)),
            "{code}"
        );
    }
    assert!(matches!(
        ResponseCode::from_wire("ErrorFromTheFuture"),
        ResponseCode::Other(_)
    ));
}
