use super::*;

#[test]
fn example_config_loads() {
    let cfg = Config::from_str_at(
        EXAMPLE,
        Path::new("config.example.toml"),
        Path::new("/srv/x"),
    )
    .unwrap();
    assert_eq!(cfg.tickets.prefix, "TP");
    assert_eq!(cfg.desk.support_address, "support@sed.example.org");
    assert_eq!(cfg.database.path, Path::new("/srv/x/var/ticketd.sqlite3"));
}
