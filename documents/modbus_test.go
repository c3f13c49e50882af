package documents_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
)

// exampleWorld is a configuration of config/examples, its state kept in
// the test's folder.
func exampleWorld(t *testing.T, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "config", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	return cfg
}

// TestRunbookForAModbusRelayModule: an amd64 gateway whose relay is a
// channel of a Modbus RTU relay module is built from the runbook alone:
// the board, the module's parts, a wiring table with the module's
// terminals and line settings, and its first day's checks; and no
// Raspberry Pi header pin anywhere.
func TestRunbookForAModbusRelayModule(t *testing.T) {
	cfg := exampleWorld(t, "amd64-rdx-s3.json")
	_, files := build(t, gather(t, cfg))
	want := map[string][]string{
		"ja": {"amd64 ミニPC + USB–RS-485 アダプタにつないだ Modbus RTU リレーモジュール", "danzen-amd64",
			"DINレール取付の Modbus RTU リレーモジュール(絶縁型デジタル入力付き、4〜8チャンネル)", "FTDI、CP210x または CH341 のチップ",
			"リレーモジュール用 DC 24V 電源", "終端抵抗 120Ω", "ツイストペアケーブル",
			"リレーモジュール din-relay の端子 CH1(コイル 0)", "リレーモジュール din-relay の端子 DI1(入力 0)",
			"FT4ZQ8A1", "9600 bps, 8N1", "端子 CH1 の COM に +24V、NO を G7SA-2A2B のコイル A1(+)へ", "初日の確認", "「設定」 → 「リレーモジュール(Modbus RTU、USB–RS-485)」",
			"USB シリアル番号で見つけます", "強制ガイドリレー(補助NC接点付き)"},
		"en": {"amd64 mini PC + Modbus RTU relay module on a USB–RS-485 adapter", "danzen-amd64",
			"DIN-rail Modbus RTU relay module with opto-isolated digital inputs (4–8 channels)", "an FTDI, CP210x or CH341 chip",
			"24 V DC supply for the relay module", "120 Ω termination resistor", "twisted-pair cable",
			"relay module din-relay, terminal CH1 (coil 0)", "relay module din-relay, terminal DI1 (input 0)",
			"FT4ZQ8A1", "9600 bps, 8N1", "terminal CH1: COM to +24 V, NO to the G7SA-2A2B's coil A1 (+)", "On the first day", "“Configuration” → “Relay modules (Modbus RTU, USB–RS-485)”",
			"finds the adapter by its USB serial number", "force-guided relay with an auxiliary NC contact"},
	}
	unwanted := map[string][]string{
		"ja": {"40ピンヘッダ", "番ピン)", "実際のリレーを駆動しません", "simulated にしか", "フォトカプラ(例: PC817)", "GPIO のリレーは"},
		"en": {"header pin", "GPIO header", "drives no real relay", "only be simulated", "optocoupler (e.g. PC817)", "A GPIO relay drives"},
	}
	for _, l := range documents.Langs {
		rb := doc(t, files, "build-runbook", l)
		mustContain(t, "runbook."+l, rb, want[l]...)
		mustNotContain(t, "runbook."+l, rb, unwanted[l]...)
		f := "wiring-relay-rdx." + l + ".svg"
		svg, ok := files[f]
		if !ok {
			t.Fatalf("no drawing %s", f)
		}
		aux := map[string]string{"ja": "DI1 ← NC 補助接点(+24V から)", "en": "DI1 ← NC aux contact (from +24 V)"}
		for _, w := range []string{"USB–RS-485", "FT4ZQ8A1", "din-relay", "CH1 COM", "CH1 NO", "G7SA-2A2B DC24", aux[l]} {
			if !strings.Contains(svg, w) {
				t.Errorf("%s lacks %q", f, w)
			}
		}
		if strings.Contains(svg, "pin 6") || strings.Contains(svg, "pin 2") {
			t.Errorf("%s names header pins", f)
		}
	}
	// The medium's sheets name the module's terminals, and count the relay
	// as a real one.
	for _, id := range []string{"offline-backup-plan", "operations-annex"} {
		for _, l := range documents.Langs {
			d := doc(t, files, id, l)
			mustNotContain(t, id+"."+l, d, "header pin", "40ピンヘッダ", "drives no real relay", "実際のリレーを駆動しません")
		}
	}
	for _, l := range documents.Langs {
		d := doc(t, files, "offline-backup-plan", l)
		mustContain(t, "plan."+l, d, map[string]string{"ja": "リレーモジュール din-relay の端子 CH1(コイル 0)", "en": "relay module din-relay, terminal CH1 (coil 0)"}[l])
	}
}

// TestGPIOOnAnAmd64BoardPrintsNoHeaderPins: a GPIO relay on an amd64
// board's chip is named by its chip and line, never by a Raspberry Pi's
// header pin, even where the chip is called gpiochip0.
func TestGPIOOnAnAmd64BoardPrintsNoHeaderPins(t *testing.T) {
	cfg := exampleWorld(t, "amd64-tape.json")
	for i := range cfg.Relays {
		cfg.Relays[i].Chip = "gpiochip0"
		if cfg.Relays[i].Sense != nil {
			cfg.Relays[i].Sense.Chip = "gpiochip0"
		}
	}
	_, files := build(t, gather(t, cfg))
	for _, l := range documents.Langs {
		rb := doc(t, files, "build-runbook", l)
		mustContain(t, "runbook."+l, rb, "danzen-amd64", "gpiochip0")
		mustNotContain(t, "runbook."+l, rb, "header pin", "40ピンヘッダの", "GND: pin 6", "VCC: pin 2")
	}
}
