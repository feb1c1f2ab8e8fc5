package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// controlRoles are the accessibility roles of things a person operates: each needs
// a name a screen reader can say (WAI-ARIA 1.2, "Accessible Name and Description").
var controlRoles = map[string]bool{
	"button": true, "link": true, "textbox": true, "searchbox": true, "combobox": true,
	"listbox": true, "checkbox": true, "radio": true, "switch": true, "slider": true,
	"spinbutton": true, "tab": true, "menuitem": true, "option": true,
}

// unnamedControls returns the controls of the current page whose accessible name,
// as Chromium computes it, is empty: "role (html tag #id)" each.
func (b *browser) unnamedControls() []string {
	b.tb.Helper()
	var nodes []*accessibility.Node
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			return err
		}
		nodes = res.Nodes
		return nil
	}))
	text := func(v *accessibility.Value) string {
		if v == nil {
			return ""
		}
		var s string
		if json.Unmarshal(v.Value, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	var out []string
	for _, n := range nodes {
		role := text(n.Role)
		if n.Ignored || !controlRoles[role] || text(n.Name) != "" {
			continue
		}
		out = append(out, role+" "+b.describe(n.BackendDOMNodeID))
	}
	return out
}

// describe names a DOM node by its tag and attributes, as in "<button class=x>".
func (b *browser) describe(id cdp.BackendNodeID) string {
	desc := "<?>"
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, dom.DescribeNode, dom.DescribeNodeParams{BackendNodeID: id})
		if err != nil || res.Node == nil {
			return nil // the node is gone; the role says enough
		}
		parts := []string{res.Node.LocalName}
		for i := 0; i+1 < len(res.Node.Attributes); i += 2 {
			parts = append(parts, fmt.Sprintf("%s=%q", res.Node.Attributes[i], res.Node.Attributes[i+1]))
		}
		desc = "<" + strings.Join(parts, " ") + ">"
		return nil
	}))
	return desc
}
