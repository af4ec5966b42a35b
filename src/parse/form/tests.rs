//! Table tests for the form reader: layouts and wordings.

use super::*;

fn read_text(t: &str) -> Form {
    let blocks: Vec<Block> = t.lines().map(|l| Block::Line(l.to_string())).collect();
    read(&blocks, "4012").form
}

#[test]
fn key_value_layouts() {
    let f = read_text(
        "Добрый день!\n\n1. Учреждение: Минздрав\n2) ФИО - Иванов Иван\nкаб. 12, 4-й эт.\nтел. 55-12-34 доб. 7\nОписание проблемы:\nНе работает печать.\nCaused by: x\n\nС уважением,\nИванов",
    );
    assert_eq!(f.organization.as_deref(), Some("Минздрав"));
    assert_eq!(f.full_name.as_deref(), Some("Иванов Иван"));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12"), Some("4"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    assert_eq!(f.phone_ext.as_deref(), Some("7"));
    assert_eq!(
        f.description.as_deref(),
        Some("Не работает печать.\nCaused by: x")
    );
}

#[test]
fn separate_room_and_floor_keys() {
    let f = read_text(
        "ФИО: Петров П.П.\nКабинет: 27\nЭтаж: 1\nТелефон: 8 (4012) 55-84-20\nПроблема — не входит",
    );
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("27"), Some("1"))
    );
    assert_eq!(f.description.as_deref(), Some("не входит"));
}

#[test]
fn free_text_is_description_without_key() {
    let f = read_text("Здравствуйте!\n\nНе могу войти в СЭД.\nПомогите.\n\nСпасибо.\nИванов");
    assert_eq!(
        f.description.as_deref(),
        Some("Не могу войти в СЭД.\nПомогите.")
    );
    assert_eq!(f.full_name, None);
    assert_eq!(f.phone, None);
}

#[test]
fn combined_title_as_key_and_postal_index() {
    let f = read_text(
        "ФИО, кабинет, этаж: Лебедев И.В., кабинет 12, этаж 1\nАдрес: 236022, г. Калининград, д. 1",
    );
    assert_eq!(f.full_name.as_deref(), Some("Лебедев И.В."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12"), Some("1"))
    );
}

#[test]
fn other_wordings() {
    let f = read_text("Пользователь: Сидоров С.С.\nЭтаж/кабинет: 3/305\nтел.: (4012) 55-12-34, доб.12\nСуть: нет звука");
    assert_eq!(f.full_name.as_deref(), Some("Сидоров С.С."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("305"), Some("3"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    assert_eq!(f.phone_ext.as_deref(), Some("12"));
    let f = read_text("ФИО: Орлов О.О., к. 12, эт. 4\nТелефон: 8 911 000 45 67");
    assert_eq!(f.full_name.as_deref(), Some("Орлов О.О."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12"), Some("4"))
    );
    assert_eq!(f.phone.as_deref(), Some("+79110004567"));
}

#[test]
fn one_column_table_of_key_value_cells() {
    let blocks = vec![Block::Table(vec![
        vec!["ФИО: Иванов И.И.".to_string()],
        vec!["Кабинет: 5, этаж 2".to_string()],
        vec!["Телефон: 55-12-34\nОписание: не печатает".to_string()],
    ])];
    let f = read(&blocks, "4012").form;
    assert_eq!(f.full_name.as_deref(), Some("Иванов И.И."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("5"), Some("2"))
    );
    assert_eq!(f.description.as_deref(), Some("не печатает"));
}

#[test]
fn problem_written_under_the_form_without_key() {
    let f = read_text("ФИО: Кротов К.К.\nКаб. 3, 1 этаж\nТелефон: 55-12-34\nНе работает принтер, помогите.\nС уважением");
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    assert_eq!(
        f.description.as_deref(),
        Some("Не работает принтер, помогите.")
    );
    let f = read_text("Организация: Министерство природных ресурсов и экологии Калининградской\nобласти\nФИО: Кротов К.К.");
    assert_eq!(
        f.organization.as_deref(),
        Some("Министерство природных ресурсов и экологии Калининградской\nобласти")
    );
}

#[test]
fn header_table_split_from_data_table() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let blocks = vec![
        Block::Table(vec![s(&["ФИО", "Кабинет, этаж", "Телефон", "Описание"])]),
        Block::Line(String::new()),
        Block::Table(vec![s(&[
            "Белов Б.Б.",
            "каб. 2, 1 этаж",
            "55-12-34",
            "Не входит",
        ])]),
    ];
    let f = read(&blocks, "4012").form;
    assert_eq!(f.full_name.as_deref(), Some("Белов Б.Б."));
    assert_eq!(f.description.as_deref(), Some("Не входит"));
}

#[test]
fn thanks_at_the_start_is_not_a_closing() {
    let f = read_text("Добрый день!\nСпасибо за помощь в прошлый раз, снова проблема.\nФИО: Белов Б.Б.\nТелефон: 55-12-34");
    assert_eq!(f.full_name.as_deref(), Some("Белов Б.Б."));
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
}

#[test]
fn free_text_without_trailing_signature() {
    let f = read_text("Добрый день!\n\nНе могу войти в СЭД, пишет что пароль неверный.\n\nИванов И.И.\nотдел кадров");
    assert_eq!(
        f.description.as_deref(),
        Some("Не могу войти в СЭД, пишет что пароль неверный.")
    );
    let f = read_text("Не могу войти.");
    assert_eq!(f.description.as_deref(), Some("Не могу войти."));
}

#[test]
fn description_paragraphs_but_not_a_bare_signature() {
    let f = read_text("ФИО: Белов Б.Б.\nОписание проблемы: Не входит в СЭД.\n\nОшибка повторяется каждый день после обеда.\n\nБелов Б.Б.\nГлавный специалист");
    assert_eq!(
        f.description.as_deref(),
        Some("Не входит в СЭД.\n\nОшибка повторяется каждый день после обеда.")
    );
}

#[test]
fn signature_phone_is_not_the_phone() {
    let f = read_text("ФИО: Белов Б.Б.\nОписание: не входит\n\nС уважением,\nБелов\nтел. 55-12-34");
    assert_eq!(f.phone, None);
}

#[test]
fn digits_elsewhere_never_phone() {
    let f = read_text("ФИО: Иванов\nОписание: звоните 8-911-000-00-00");
    assert_eq!(f.phone, None);
}

#[test]
fn thanks_in_advance_before_the_form() {
    let f = read_text("Добрый день!\nЗаранее спасибо!\nФИО: Белов Б.Б.\nТелефон: 55-12-34\n\nС уважением,\nБелов\nтел. 55-99-99");
    assert_eq!(f.full_name.as_deref(), Some("Белов Б.Б."));
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    let f = read_text("Заранее спасибо!\n\nНе работает сканер.");
    assert_eq!(f.description.as_deref(), Some("Не работает сканер."));
}

/// A template's blanks (`________`, the desk's own form block) are no value.
#[test]
fn template_blanks_are_no_value() {
    let f = read_text("Ф.И.О. пользователя: ________\nНомер контактного телефона: ________\nОписание возникшей проблемы: ____");
    assert_eq!(f.full_name, None);
    assert_eq!(f.phone, None);
    assert_eq!(f.description, None);
    let f = read_text("ФИО: Иванов_Иван\nОписание: не входит");
    assert_eq!(f.full_name.as_deref(), Some("Иванов_Иван"));
}
