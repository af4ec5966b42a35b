//! The site's form in a real headless Chromium (issue 15, must show 1 and
//! 2): a person fills every field, attaches a PNG and submits; a form with
//! the phone and the room left out comes back with both errors and every
//! other value kept; a double click registers one ticket. Screenshots of
//! the form and the result page are written to `target/tmp/web_browser/`.

#[path = "web/browser.rs"]
mod browser;
mod common;
#[path = "web/site.rs"]
mod site;

use browser::Browser;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use sha2::{Digest, Sha256};
use site::*;

/// One browser at a time: the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_fills_the_form_attaches_a_png_and_reads_the_ticket_number() {
    let _one = ONE_AT_A_TIME.lock().await;
    let s = Site::start(|_| {}).await;
    let png = s.desk.root().join("screen.png");
    std::fs::write(&png, common::PNG).expect("png");
    let b = Browser::start().await;
    b.client
        .goto(&format!("http://{}/", s.addr))
        .await
        .expect("open the form");
    for (id, v) in full_form() {
        b.fill(id, v).await;
    }
    b.client
        .find(Locator::Id("attachments"))
        .await
        .expect("file input")
        .send_keys(&png.display().to_string())
        .await
        .expect("attach");
    b.shot("form.png").await;
    // On a phone's screen: nothing wider than the screen.
    b.client.set_window_size(390, 844).await.expect("narrow");
    b.shot("form-phone.png").await;
    let fits = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .expect("measure");
    assert_eq!(
        fits,
        serde_json::Value::Bool(true),
        "no sideways scrolling on a phone"
    );
    b.client.set_window_size(900, 1500).await.expect("wide");
    // A person takes longer than `min_fill_secs`.
    s.advance(30);
    b.click("button[type=submit]").await;
    let id = b.wait_for("ticket").await;
    b.shot("result.png").await;
    assert!(id.starts_with("TP-"), "{id}");
    let link = b
        .client
        .find(Locator::Id("status-link"))
        .await
        .expect("the status link")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    assert!(link.contains(&format!("/t/{id}-")), "{link}");

    let t = s.show(&id);
    assert_eq!(t["channel"], "web");
    assert_eq!(t["full_name"], "Иванова Мария Сергеевна");
    assert_eq!(t["organization"], "Министерство финансов");
    assert_eq!(t["location"], "каб. 305, 3 этаж");
    assert_eq!(t["room"], "305");
    assert_eq!(t["floor"], "3");
    assert_eq!(t["phone"], "+74012551234");
    assert_eq!(t["phone_ext"], "123");
    assert_eq!(
        t["description"],
        "Не открывается карточка документа: ошибка 500."
    );
    assert_eq!(t["note"], "Работаю до 18:00");
    assert_eq!(t["requester"], USER);
    assert_eq!(t["attachments"][0]["filename"], "screen.png");
    assert_eq!(
        t["attachments"][0]["sha256"],
        hex::encode(Sha256::digest(common::PNG))
    );
    let confirmations = s
        .outbox()
        .into_iter()
        .filter(|(k, to, raw)| {
            k == "confirmation" && to.contains(USER) && common::body_text(raw).contains(&id)
        })
        .count();
    assert_eq!(confirmations, 1, "the confirmation letter is in the outbox");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_phone_and_room_comes_back_and_a_double_click_is_one_ticket() {
    let _one = ONE_AT_A_TIME.lock().await;
    let s = Site::start(|_| {}).await;
    let b = Browser::start().await;
    b.client
        .goto(&format!("http://{}/", s.addr))
        .await
        .expect("open the form");
    for (id, v) in full_form() {
        match id {
            "phone" => {}
            "location" => b.fill(id, "3 этаж").await,
            _ => b.fill(id, v).await,
        }
    }
    s.advance(30);
    b.click("button[type=submit]").await;
    let phone_err = b.wait_for("err-phone").await;
    assert!(phone_err.contains("телефон"), "{phone_err}");
    let room_err = b.text("err-location").await.expect("the location's error");
    assert!(room_err.contains("номер кабинета"), "{room_err}");
    assert!(
        b.text("err-full_name").await.is_none(),
        "no error where none is"
    );
    b.shot("errors.png").await;
    for (id, v) in full_form() {
        if id != "phone" && id != "location" {
            assert_eq!(b.value(id).await, v, "{id} kept");
        }
    }
    assert_eq!(b.value("location").await, "3 этаж", "the location as typed");
    assert_eq!(
        s.count("SELECT count(*) FROM tickets"),
        0,
        "nothing registered"
    );

    // Completed, then a double click on the button.
    b.fill("location", "каб. 305, 3 этаж").await;
    b.fill("phone", "8 (4012) 55-12-34").await;
    s.advance(30);
    let button = b
        .client
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("button");
    let double = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: button,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client
        .perform_actions(double)
        .await
        .expect("double click");
    let id = b.wait_for("ticket").await;
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 1, "one ticket");
    assert_eq!(s.show(&id)["phone"], "+74012551234");
    b.stop().await;
}
