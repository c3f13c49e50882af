package auth

import "github.com/danzen-gw/danzen/internal/msg"

// Role is what a user may do, as a whole.
type Role string

const (
	// RoleVendorAdmin is the vendor engineer: everything.
	RoleVendorAdmin Role = "vendor_admin"
	// RoleStaff is hospital IT staff: read, drills, alerts.
	RoleStaff Role = "hospital_staff"
	// RoleAuditor reads and downloads, nothing else.
	RoleAuditor Role = "auditor"
)

// Roles lists every role, most powerful first.
func Roles() []Role { return []Role{RoleVendorAdmin, RoleStaff, RoleAuditor} }

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleVendorAdmin, RoleStaff, RoleAuditor:
		return true
	}
	return false
}

// Label is the role's name for the page.
func (r Role) Label() msg.Text {
	switch r {
	case RoleVendorAdmin:
		return msg.T("保守ベンダ管理者", "Vendor admin")
	case RoleStaff:
		return msg.T("病院スタッフ", "Hospital staff")
	case RoleAuditor:
		return msg.T("監査担当（閲覧のみ）", "Auditor (read-only)")
	}
	return msg.Plain(string(r))
}

// Action is one thing a handler does; handlers name the action they need.
type Action string

const (
	ViewStatus      Action = "view_status"       // the dashboard, metrics
	ViewEvidence    Action = "view_evidence"     // the ledger and its verification
	DownloadReports Action = "download_reports"  // generated documents, scan reports
	StartDrill      Action = "start_drill"       // start the yearly restore drill
	AckAlert        Action = "ack_alert"         // acknowledge an alert
	RunCycle        Action = "run_cycle"         // start a backup cycle now
	PowerForRestore Action = "power_for_restore" // power a medium on for a real restore
	EditConfig      Action = "edit_config"       // sources, media, relays, schedules
	ManageUsers     Action = "manage_users"      // add/remove users, roles, reset passwords
	// HandleMedia: mark a removable medium taken off-site or brought back.
	// Hospital staff carry the media, so they mark it; it powers nothing
	// and deletes nothing, and the last medium at home cannot be marked.
	HandleMedia Action = "handle_media"
)

// Actions lists every action.
func Actions() []Action {
	return []Action{ViewStatus, ViewEvidence, DownloadReports, StartDrill, AckAlert, RunCycle, PowerForRestore, EditConfig, ManageUsers, HandleMedia}
}

// Allowed reports whether role may perform action. Unknown roles and
// unknown actions are refused, so a typo fails closed.
func Allowed(role Role, action Action) bool {
	switch role {
	case RoleVendorAdmin:
		switch action {
		case ViewStatus, ViewEvidence, DownloadReports, StartDrill, AckAlert, RunCycle, PowerForRestore, EditConfig, ManageUsers, HandleMedia:
			return true
		}
	case RoleStaff:
		switch action {
		case ViewStatus, ViewEvidence, DownloadReports, StartDrill, AckAlert, HandleMedia:
			return true
		}
	case RoleAuditor:
		switch action {
		case ViewStatus, ViewEvidence, DownloadReports:
			return true
		}
	}
	return false
}
