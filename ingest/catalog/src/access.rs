//! Who may do what: the roles of `interfaces.md` and every permission the API, the pages and the
//! command line check, in one place. A reporter is bound to one unit; it sees that unit and the
//! province level, never a sibling's figures or names.

use serde::{Deserialize, Serialize};

use crate::catalog::Units;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sở Tư pháp: everything, including locks, users and the audit log.
    Admin,
    /// Leadership: reads every figure and report, sends nothing.
    Viewer,
    /// A reporting unit: sends and reads its own returns, reads the province-level indicators.
    Reporter,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Viewer, Role::Reporter];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.id() == s)
    }

    pub fn id(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
            Role::Reporter => "reporter",
        }
    }

    /// Vietnamese name of the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị (Sở Tư pháp)",
            Role::Viewer => "Lãnh đạo (chỉ xem)",
            Role::Reporter => "Đơn vị báo cáo",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A person or script known to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The unit a reporter reports for.
    pub unit: Option<String>,
}

/// Why an action is refused, in Vietnamese for the person who tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl User {
    /// May this user read a unit's own figures and returns? Admins and viewers every unit; a
    /// reporter its own unit and the province level (`province`: the root of the tree).
    pub fn may_view(&self, unit: &str, province: &str) -> bool {
        self.role != Role::Reporter || unit == province || self.unit.as_deref() == Some(unit)
    }

    /// [`User::may_view`] as a check with its refusal.
    pub fn check_view(&self, unit: &str, province: &str) -> Result<(), Denied> {
        if self.may_view(unit, province) {
            Ok(())
        } else {
            Err(Denied(format!("Tài khoản không được xem số liệu của đơn vị {unit}")))
        }
    }

    /// May this user see other units' figures and names beside the one shown (rankings, listings,
    /// the children of a unit)?
    pub fn sees_all_units(&self) -> bool {
        self.role != Role::Reporter
    }

    /// May this user send returns at all?
    pub fn check_send(&self) -> Result<(), Denied> {
        match self.role {
            Role::Viewer => Err(Denied("Tài khoản chỉ có quyền xem, không được gửi báo cáo".into())),
            Role::Admin | Role::Reporter => Ok(()),
        }
    }

    /// May this user send returns for `unit`? Admins for any unit, reporters for their own unit and
    /// the units under it in the catalog's tree ([`Units::is_within`]) — a commune for itself, a
    /// province's Department of Justice, bound to the province on the Ministry's server, for every
    /// unit of its province (`pbgdpl push`).
    pub fn check_submit(&self, unit: &str, units: &Units) -> Result<(), Denied> {
        self.check_send()?;
        match (self.role, self.unit.as_deref()) {
            (Role::Reporter, Some(own)) if unit == own || units.is_within(unit, own) => Ok(()),
            (Role::Reporter, own) => Err(Denied(format!(
                "Tài khoản chỉ được gửi báo cáo của đơn vị {} (và các đơn vị trực thuộc)",
                own.unwrap_or("?")
            ))),
            _ => Ok(()),
        }
    }

    /// The unit every return this user sends must be for (a reporter's own), if any.
    pub fn bound_unit(&self) -> Option<&str> {
        self.unit.as_deref().filter(|_| self.role == Role::Reporter)
    }

    /// May this user download the province's compiled report? The Department and leaders.
    pub fn check_reports(&self) -> Result<(), Denied> {
        if self.sees_all_units() {
            Ok(())
        } else {
            Err(Denied("Báo cáo tổng hợp dành cho Sở Tư pháp và lãnh đạo".into()))
        }
    }

    /// May this user lock periods, manage users and read the audit log? Administrators only.
    pub fn check_admin(&self) -> Result<(), Denied> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(Denied(
                "Chỉ quản trị viên của Sở Tư pháp được thực hiện thao tác này".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, unit: Option<&str>) -> User {
        User {
            name: "x".into(),
            role,
            unit: unit.map(str::to_owned),
        }
    }

    #[test]
    fn a_reporter_sees_its_unit_and_the_province_only() {
        let r = user(Role::Reporter, Some("99001"));
        assert!(r.may_view("99001", "99") && r.may_view("99", "99"));
        assert!(!r.may_view("99002", "99") && !r.sees_all_units());
        let mut issues = crate::catalog::Issues::default();
        let units = Units::parse(
            "units.csv",
            "code,name,kind,parent\n99,Tỉnh Mẫu,province,\n99001,Phường A,ward,99\n99002,Xã B,commune,99\n",
            None,
            &mut issues,
        );
        assert!(issues.0.is_empty(), "{:?}", issues.0);
        assert!(r.check_submit("99001", &units).is_ok() && r.check_submit("99002", &units).is_err());
        // Bound to the province: every unit the tree puts under it, nothing else.
        let p = user(Role::Reporter, Some("99"));
        assert!(p.check_submit("99002", &units).is_ok() && p.check_submit("80001", &units).is_err());
        assert!(r.check_admin().is_err() && r.check_reports().is_err());
        let v = user(Role::Viewer, None);
        assert!(v.may_view("99002", "99") && v.check_send().is_err() && v.check_reports().is_ok());
        let a = user(Role::Admin, None);
        assert!(a.check_submit("99002", &units).is_ok() && a.check_admin().is_ok() && a.bound_unit().is_none());
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("root"), None);
    }
}
