package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk"
)

// EnrolDisk makes a disk volume that the relay's latest wiring test found
// the medium that relay powers. When the relay powers no medium yet, a
// disk medium called name is added (its password file and media ID
// named after it); when it powers one, that medium's identity is
// replaced (a new disk for it). The identity is what appeared, never what
// a person typed: the disk's serial and the volume's ext4 UUID. The
// change is applied like any other (Reconfigure) and the medium's name is
// returned.
func (g *Gateway) EnrolDisk(ctx context.Context, actor, relayName, volume, name string) (string, error) {
	j, ok := g.CommissionJob(StepRelay, relayName)
	if !ok || j.Wiring == nil || j.Running() {
		return "", msg.Errorf("リレー %s の配線テストを先に行ってください", "run the wiring test of relay %s first", relayName)
	}
	seen, vol, ok := j.Wiring.Disk(volume)
	switch {
	case !ok:
		return "", msg.Errorf("ボリューム %s は配線テストで見つかっていません。配線テストをやり直してください", "volume %s was not found by the wiring test: run it again", volume)
	case vol.FSUUID == "":
		return "", msg.Errorf("ボリューム %s には ext4 ファイルシステムがありません。PC で ext4 に初期化してから配線テストをやり直してください(ゲートウェイは初期化しません)",
			"volume %s carries no ext4 filesystem: format it as ext4 on a PC, then run the wiring test again (the gateway never formats)", volume)
	}
	next, err := cloneConfig(g.Config())
	if err != nil {
		return "", err
	}
	m, err := enrolTarget(next, relayName, name)
	if err != nil {
		return "", err
	}
	m.Disk.FSUUID, m.Disk.Serial = vol.FSUUID, ""
	if len(seen.Serials) > 0 {
		m.Disk.Serial = seen.Serials[0]
	}
	return m.Name, g.Reconfigure(ctx, actor, next)
}

// enrolTarget is the medium the relay powers in cfg, added as a new disk
// medium called name when there is none.
func enrolTarget(cfg *config.Config, relayName, name string) (*config.Medium, error) {
	if i := slices.IndexFunc(cfg.Media, func(m config.Medium) bool { return m.Relay == relayName }); i >= 0 {
		m := &cfg.Media[i]
		if m.Disk == nil {
			return nil, msg.Errorf("リレー %s が給電する媒体 %s はディスクではありません", "medium %s, powered by relay %s, is not a disk", m.Name, relayName)
		}
		return m, nil
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, msg.New("媒体の名前を入力してください", "enter a name for the medium")
	}
	cfg.Media = append(cfg.Media, config.Medium{Name: name, Type: config.MediumDisk, Relay: relayName,
		PasswordFile: name + ".restic-password", Disk: &disk.Spec{Name: name, MediaID: mediaIDFor(name)}})
	return &cfg.Media[len(cfg.Media)-1], nil
}

// mediaIDFor is the media ID a new medium gets: written onto the disk
// when it is prepared, checked at every mount.
func mediaIDFor(name string) string {
	id := "DANZEN-" + strings.ToUpper(name)
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

// cloneConfig copies c deeply: a configuration in use is replaced whole,
// never edited in place.
func cloneConfig(c *config.Config) (*config.Config, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, msg.Wrap(err, "設定を複製できません", "cannot copy the configuration")
	}
	var out config.Config
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, msg.Wrap(err, "設定を複製できません", "cannot copy the configuration")
	}
	return &out, nil
}
