//! `ticketd lines` and `ticketd tickets new` (issue 15): the lines with
//! the 1st line's registration addresses, and a call registered from the
//! command line as the desk would register it.

mod common;

use common::TestDesk;

#[test]
fn lines_name_each_first_line_engineers_registration_address() {
    let desk = TestDesk::new();
    let out = desk.run(&["lines", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let first = &v[0];
    assert_eq!(first["number"], 1);
    let op1 = &first["engineers"][0];
    assert_eq!(op1["address"], "op1@sed.example.org");
    let reg = op1["registration_address"].as_str().expect("an address");
    assert!(
        reg.starts_with("support+reg-") && reg.ends_with("@sed.example.org"),
        "{reg}"
    );
    assert_ne!(
        first["engineers"][1]["registration_address"],
        op1["registration_address"]
    );
    assert_eq!(
        v[1]["engineers"][0]["registration_address"],
        serde_json::Value::Null,
        "2nd line: none"
    );
    // The same key, the same addresses, in the text view.
    let text = String::from_utf8_lossy(&desk.run(&["lines"], None).stdout).to_string();
    assert!(text.contains(reg), "{text}");
}

#[test]
fn tickets_new_registers_a_phone_appeal() {
    let desk = TestDesk::new();
    let out = desk.run(
        &[
            "tickets",
            "new",
            "--channel",
            "phone",
            "--requester",
            "ivanova@minfin.example.org",
            "--registered-by",
            "op1@sed.example.org",
            "--field",
            "full_name=Иванова Мария Сергеевна",
            "--field",
            "location=каб. 305, 3 этаж",
            "--field",
            "phone=8 (4012) 55-12-34",
            "--field",
            "description=Не печатает принтер",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json line");
    assert_eq!(r["outcome"], "created");
    let id = r["ticket"].as_str().expect("ticket");
    let t = desk.show(id);
    assert_eq!(t["channel"], "phone");
    assert_eq!(t["registered_by"], "op1@sed.example.org");
    assert_eq!(t["room"], "305");
    assert_eq!(t["phone"], "+74012551234");
    assert_eq!(t["status"], "new");

    // Wrong input is named.
    for (args, says) in [
        (
            vec!["tickets", "new", "--field", "fio=Иванова"],
            "not a form field",
        ),
        (
            vec!["tickets", "new", "--channel", "email"],
            "ticketd ingest",
        ),
        (
            vec![
                "tickets",
                "new",
                "--registered-by",
                "ivanova@minfin.example.org",
            ],
            "not an engineer",
        ),
    ] {
        let out = desk.run(&args, None);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
