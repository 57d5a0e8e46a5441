//! `pbgdpl user`: people and scripts who use the web app and the API.

use std::io::IsTerminal;
use std::process::ExitCode;

use pbgdpl_catalog::Role;
use pbgdpl_store::Actor;

use super::{Context, Usage};
use crate::args::UserCommand;

pub(crate) fn run(ctx: &Context, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let by = Actor::cli(ctx.clock.now());
    match command {
        UserCommand::Add { name, role, unit } => {
            if role == Role::Reporter && unit.is_none() {
                return Err(Usage("người báo cáo (reporter) cần --unit".into()).into());
            }
            if let Some(u) = &unit {
                ctx.unit(Some(u))?;
            }
            let token = store.add_user(&name, role, unit.as_deref(), &by)?;
            println!("{token}");
            eprintln!("Mã truy cập (token) chỉ hiển thị một lần; hãy lưu lại.");
        }
        UserCommand::Passwd { name } => {
            if std::io::stdin().is_terminal() {
                eprint!("Mật khẩu mới cho {name} (ít nhất 8 ký tự): ");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            store.set_password(&name, line.trim_end_matches(['\r', '\n']), &by)?;
            eprintln!("Đã đặt mật khẩu cho {name}; các phiên đăng nhập cũ đã kết thúc.");
        }
        UserCommand::Link { name } => {
            println!(
                "/dang-nhap/lien-ket/{}",
                store.create_login_link(&name, ctx.clock.now(), 15)?
            );
        }
        UserCommand::Token { name } => {
            println!("{}", store.rotate_token(&name, &by)?);
            eprintln!("Mã truy cập mới chỉ hiển thị một lần; mã cũ đã hết hiệu lực.");
        }
        UserCommand::Disable { name } => {
            store.disable_user(&name, &by)?;
            eprintln!("Đã khóa tài khoản {name}.");
        }
        UserCommand::List => {
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.user.name,
                    u.user.role,
                    u.user.unit.unwrap_or_default(),
                    if u.disabled_at.is_some() { "đã khóa" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
