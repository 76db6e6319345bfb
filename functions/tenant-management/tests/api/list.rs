//! `GET /admin/tenants`: pages in id order with a cursor, and the query parameters checked.

use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn given_45_tenants_when_paging_by_20_then_20_20_5_and_next_null_at_the_end() {
    let (api, _) = recording_api();
    for index in 0..45 {
        create(&api, &format!("tenant-{index:02}")).await;
    }
    let mut sizes = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut target = "/admin/tenants?limit=20".to_owned();
    loop {
        // WHEN
        let response = call(&api, admin("GET", &target)).await;
        assert_eq!(response.status, 200, "{}", text(&response));
        let page = json(&response);
        let tenants = page["tenants"].as_array().unwrap();
        sizes.push(tenants.len());
        seen.extend(
            tenants
                .iter()
                .map(|tenant| tenant["tenant_id"].as_str().unwrap().to_owned()),
        );
        // THEN every page but the last names the next one, in the body and in a Link header
        match &page["next"] {
            Value::Null => {
                assert_eq!(page["next_url"], Value::Null);
                assert_eq!(response.header("link"), None);
                break;
            }
            Value::String(next) => {
                assert_eq!(next, seen.last().unwrap());
                target = page["next_url"].as_str().unwrap().to_owned();
                assert_eq!(target, format!("/admin/tenants?limit=20&after={next}"));
                assert_eq!(
                    response.header("link"),
                    Some(format!("<{target}>; rel=\"next\"").as_str())
                );
            }
            other => panic!("next is {other}"),
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    let expected: Vec<String> = (0..45).map(|index| format!("tenant-{index:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn given_no_limit_when_listing_then_pages_hold_20() {
    let (api, _) = recording_api();
    for index in 0..21 {
        create(&api, &format!("t{index:02}")).await;
    }
    let page = json(&call(&api, admin("GET", "/admin/tenants")).await);
    assert_eq!(page["tenants"].as_array().unwrap().len(), 20);
    assert_eq!(page["next"], "t19");
}

#[tokio::test]
async fn given_bad_parameters_when_listing_then_400_naming_the_parameter() {
    let (api, _) = recording_api();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=1&limit=2", "limit"),
        ("after=a&after=b", "after"),
        ("after=", "after"),
        ("limt=5", "limt"),
    ] {
        let response = call(&api, admin("GET", &format!("/admin/tenants?{query}"))).await;
        let (status, _, named) = problem(&response);
        assert_eq!((status, named.as_deref()), (400, Some(field)), "{query}");
    }
}

#[tokio::test]
async fn given_no_tenants_when_listing_then_an_empty_last_page() {
    let (api, _) = recording_api();
    let page = json(&call(&api, admin("GET", "/admin/tenants?limit=100")).await);
    assert_eq!(
        page,
        serde_json::json!({ "tenants": [], "next": null, "next_url": null })
    );
}
