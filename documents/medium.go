package documents

import (
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
)

// mediumKind is what the documents say about one medium type. Each type
// has its own file (medium_disk.go …); a type without one is printed as a
// clear "see the vendor's procedure" section, never as a guess.
type mediumKind struct {
	// label names the type for tables.
	label func(l lang, m *config.Medium) string
	// offline: how the medium is cut off and how danzen proves it (plan).
	offline func(b *builder, m *config.Medium) []Block
	// procedure: the concrete steps and what staff do (annex).
	procedure func(b *builder, m *config.Medium) []Block
	// parts: rows (item, quantity, note) for the runbook's parts list.
	parts func(b *builder, m *config.Medium) [][]Cell
	// prepare: how a new medium is prepared (runbook).
	prepare func(b *builder, m *config.Medium) []Block
	// restore: where the repository is and the stock-restic commands
	// (recovery sheet).
	restore func(b *builder, m *config.Medium) []Block
}

var mediumKinds = map[string]mediumKind{
	config.MediumDisk: diskKind,
	config.MediumS3:   s3Kind,
	config.MediumTape: tapeKind,
}

// kindOf returns the medium's kind, or the vendor fallback.
func kindOf(m *config.Medium) (mediumKind, bool) {
	k, ok := mediumKinds[m.Type]
	if !ok {
		return vendorKind, false
	}
	return k, true
}

// vendorKind is printed for a medium type this generator does not know.
var vendorKind = mediumKind{
	label: func(l lang, m *config.Medium) string { return l.f("種類 %q", "type %q", m.Type) },
	offline: func(b *builder, m *config.Medium) []Block {
		return []Block{vendorNote(b.l, m)}
	},
	procedure: func(b *builder, m *config.Medium) []Block {
		return []Block{vendorNote(b.l, m)}
	},
	parts: func(b *builder, m *config.Medium) [][]Cell {
		return [][]Cell{{tcell(m.Name), tcell("1"), cell(bad(b.l.t("保守ベンダの仕様書を参照", "see the vendor's specification")))}}
	},
	prepare: func(b *builder, m *config.Medium) []Block {
		return []Block{vendorNote(b.l, m)}
	},
	restore: func(b *builder, m *config.Medium) []Block {
		return []Block{vendorNote(b.l, m)}
	},
}

func vendorNote(l lang, m *config.Medium) Block {
	return note(bad(l.f("媒体 %s の種類 %q は本書の自動生成の対象外です。保守ベンダの手順書を参照し、その写しを本書に添付してください。",
		"Medium %s is of type %q, which this generator does not describe. See the vendor's procedure and attach a copy to this document.",
		m.Name, m.Type)))
}

// relayOf returns the relay spec that powers m (nil if none).
func relayOf(cfg *config.Config, m *config.Medium) *relay.Spec {
	for i := range cfg.Relays {
		if cfg.Relays[i].Name == m.Relay {
			return &cfg.Relays[i]
		}
	}
	return nil
}
