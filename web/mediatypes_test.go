package web

import (
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
)

// Every medium type the gateway registers can be chosen and configured on
// the page: a type added to the registry without a form fails here.
func TestEveryMediumTypeHasAForm(t *testing.T) {
	types := gateway.MediumTypes()
	if len(types) == 0 {
		t.Fatal("no medium types registered")
	}
	for _, mt := range types {
		c := &config.Config{}
		it, ok := mediumItem(c, "")
		if !ok {
			t.Fatal("a new medium has no form")
		}
		c.Media[0].Name, c.Media[0].Type = "m1", mt.Name
		it.commit()
		if !mt.Configured(c.Media[0]) {
			t.Errorf("type %s: the form saved no settings of that type: %+v", mt.Name, c.Media[0])
		}
		if row := mediumRow(c.Media[0], ""); row.Bad || row.Summary.EN == "" {
			t.Errorf("type %s: overview row %+v", mt.Name, row)
		}
	}
}
