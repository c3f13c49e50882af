package backup

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

//go:embed sshd_match.conf.tmpl
var sshdMatchTmpl string

// SSHDAccount describes an account a vendor creates on the e-chart server
// for danzen: the read-only pull account, or (Write) the separate account
// restores are sent back to.
type SSHDAccount struct {
	User      string // e.g. "danzen-pull"
	Chroot    string // root-owned, not group/world-writable, with all parents
	ExportDir string // inside the chroot, e.g. "/export" (for Write: the restore directory)
	GatewayIP string // the only address the key is accepted from
	Write     bool   // the write-back account: SFTP without -R
}

// SSHDMatchBlock returns the sshd_config block that restricts the account
// to SFTP (read-only unless Write): no shell, no forwarding, key only,
// chrooted. The
// README, the build runbook and the tests all use this one text.
func SSHDMatchBlock(a SSHDAccount) string {
	t := template.Must(template.New("match").Parse(sshdMatchTmpl))
	var b bytes.Buffer
	if err := t.Execute(&b, a); err != nil {
		panic(err) // the template is embedded and static
	}
	return b.String()
}

// AuthorizedKeysLine returns the authorized_keys line for the gateway's
// public key: usable only from the gateway's address, with every
// forwarding and terminal option off.
func AuthorizedKeysLine(a SSHDAccount, publicKey string) string {
	return fmt.Sprintf("restrict,from=%q %s", a.GatewayIP, bytes.TrimSpace([]byte(publicKey)))
}
