package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

type tlsBody struct {
	HTTPS                  bool
	Fingerprint            string
	Subject, Issuer, Names string
	From, Until            string
	SelfSigned             bool
	Error                  msg.Text
}

func (s *Server) tlsPage(w http.ResponseWriter, r *http.Request) { s.renderTLS(w, r, msg.Text{}) }

func (s *Server) renderTLS(w http.ResponseWriter, r *http.Request, errMsg msg.Text) {
	b := tlsBody{Error: errMsg}
	if s.certs != nil {
		leaf := s.certs.Leaf()
		b.HTTPS = true
		b.Fingerprint = s.certs.Fingerprint()
		b.Subject, b.Issuer = leaf.Subject.String(), leaf.Issuer.String()
		var names []string
		names = append(names, leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		b.Names = strings.Join(names, ", ")
		b.From, b.Until = s.zone().Stamp(leaf.NotBefore), s.zone().Stamp(leaf.NotAfter)
		b.SelfSigned = leaf.Subject.String() == leaf.Issuer.String()
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "tls.html", "/tls", msg.T("ページの証明書", "The page's certificate"), flash, bad, b)
}

// tlsUpload replaces the page's certificate with the vendor's own (PEM
// certificate chain and key). A pair that does not validate changes
// nothing. The key is never shown; the ledger gets the new fingerprint.
func (s *Server) tlsUpload(w http.ResponseWriter, r *http.Request) {
	if s.certs == nil {
		s.renderTLS(w, r, msg.T("このページは HTTPS で提供されていません(デモ)", "this page is not served over HTTPS (demo)"))
		return
	}
	old := s.certs.Fingerprint()
	certPEM, err := uploaded(r, "cert")
	var keyPEM []byte
	if err == nil {
		keyPEM, err = uploaded(r, "key")
	}
	if err == nil {
		err = s.certs.Replace(certPEM, keyPEM, s.zone().Time(time.Now()))
	}
	if err != nil {
		s.renderTLS(w, r, msg.TextOf(msg.Wrap(err, "証明書は変更していません", "the certificate was not changed")))
		return
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindCertReplaced, Actor: actor(r), Message: msg.T("ページの証明書を置き換え", "page certificate replaced"),
		Payload: ledger.CertReplacedData{OldSHA256: old, NewSHA256: s.certs.Fingerprint(), Subject: s.certs.Leaf().Subject.String()}})
	s.log.Info("page certificate replaced", "sha256", s.certs.Fingerprint(), "by", actor(r))
	http.Redirect(w, r, "/tls?done=cert", http.StatusSeeOther)
}
