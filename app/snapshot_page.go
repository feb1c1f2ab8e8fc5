package app

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// snapshotPage opens the snapshot named in the URL (/s/{id}).
type snapshotPage struct {
	app.Compo
}

func (p *snapshotPage) Render() app.UI {
	return app.Main().ID("snapshot").Body(app.H1().Text("Opening snapshot…"))
}
