package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/sqlite"
)

// omemoUsage is the usage of the omemo subcommands.
const omemoUsage = "omemo: want fingerprint, uri, devices J, trust J FP, distrust J FP, verify URI or remove-device ID"

// newE2EE returns the OMEMO layer of a stored account.
func (e *env) newE2EE(acct client.Account) *omemo.E2EE {
	return omemo.NewE2EE(omemo.New(acct.ID, acct.JID, omemo.Options{Logger: e.log}))
}

// cmdOMEMO runs the omemo subcommands: our own device's fingerprint and
// verification URI, a contact's devices with their fingerprints and
// trust, and the user's trust decisions. Only devices and remove-device
// connect; the others work on the store.
func (e *env) cmdOMEMO(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{omemoUsage}
	}
	sub, args := args[0], args[1:]
	connects := sub == "devices" || sub == "remove-device"
	fs := e.newFlags("omemo "+sub, connects)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account (default: the only one)")
	asJSON := fs.Bool("json", false, "print JSON")
	offline := false
	if sub == "devices" {
		fs.BoolVar(&offline, "offline", false, "only what the store knows: do not fetch the device list and bundles")
	}
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	want := map[string]int{"fingerprint": 0, "uri": 0, "devices": 1, "trust": 2, "distrust": 2, "verify": 1, "remove-device": 1}
	n, ok := want[sub]
	if !ok {
		return usageError{omemoUsage}
	}
	if len(pos) != n {
		return usageError{fmt.Sprintf("omemo %s: want %d argument(s)", sub, n)}
	}
	switch sub {
	case "fingerprint", "uri", "trust", "distrust", "verify":
		db, acct, err := e.storeAccount(ctx)
		if err != nil {
			return err
		}
		return e.omemoOffline(ctx, db, acct, sub, pos, *asJSON)
	case "devices":
		owner, err := bareArg("omemo devices", pos[0])
		if err != nil {
			return err
		}
		if offline {
			db, acct, err := e.storeAccount(ctx)
			if err != nil {
				return err
			}
			var devs []client.DeviceInfo
			err = db.View(ctx, func(tx client.Tx) error {
				var err error
				devs, err = e.newE2EE(acct).Devices(ctx, tx, owner)
				return err
			})
			if err != nil {
				return err
			}
			return e.printDevices(devs, *asJSON)
		}
		return e.online(ctx, nil, func(ctx context.Context, c *client.Client) error {
			devs, err := c.Devices(ctx, owner)
			if err != nil {
				return err
			}
			return e.printDevices(devs, *asJSON)
		})
	default: // remove-device
		id, err := strconv.ParseUint(pos[0], 10, 32)
		if err != nil || !validDeviceID(uint32(id)) {
			return usageError{"omemo remove-device: want a device id (1 to 2147483647)"}
		}
		return e.online(ctx, nil, func(ctx context.Context, c *client.Client) error {
			return c.RemoveOwnDevice(ctx, uint32(id))
		})
	}
}

// validDeviceID reports whether id may be an OMEMO device id.
func validDeviceID(id uint32) bool { return id >= 1 && id <= 1<<31-1 }

// omemoOffline runs the subcommands that only need the store.
func (e *env) omemoOffline(ctx context.Context, db *sqlite.DB, acct client.Account, sub string, pos []string, asJSON bool) error {
	x := e.newE2EE(acct)
	var out any
	err := db.Update(ctx, func(tx client.Tx) error {
		// The device is created here when the account has none yet; it
		// is published at the next connection.
		device, _, err := x.Setup(ctx, tx)
		if err != nil {
			return err
		}
		switch sub {
		case "fingerprint":
			fp, err := x.OwnFingerprint(ctx, tx)
			if err != nil {
				return err
			}
			if asJSON {
				out = obj{"jid": acct.JID.String(), "device": device, "fingerprint": fp}
			} else {
				out = fmt.Sprintf("%s device %d\n%s", acct.JID, device, omemo.FormatFingerprint(fp))
			}
		case "uri":
			uri, err := x.OwnURI(ctx, tx)
			if err != nil {
				return err
			}
			out = uri
			if asJSON {
				out = obj{"uri": uri}
			}
		case "verify":
			addrs, err := x.VerifyURI(ctx, tx, pos[0])
			if err != nil {
				return err
			}
			out = addressesOut(addrs, asJSON)
		default: // trust, distrust
			owner, err := bareArg("omemo "+sub, pos[0])
			if err != nil {
				return err
			}
			state := client.DeviceVerified
			if sub == "distrust" {
				state = client.DeviceDistrusted
			}
			addrs, err := x.SetTrust(ctx, tx, owner, pos[1], state)
			if err != nil {
				return err
			}
			out = addressesOut(addrs, asJSON)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("omemo %s: %w", sub, err)
	}
	return e.printOut(out)
}

// addressesOut describes the devices a decision applied to.
func addressesOut(addrs []client.DeviceAddress, asJSON bool) any {
	if asJSON {
		list := make([]obj, 0, len(addrs))
		for _, a := range addrs {
			list = append(list, obj{"jid": a.JID.String(), "device": a.Device})
		}
		return list
	}
	s := ""
	for i, a := range addrs {
		if i > 0 {
			s += "\n"
		}
		s += fmt.Sprintf("%s device %d", a.JID, a.Device)
	}
	return s
}

// printOut prints a text (one line or more) or a JSON value.
func (e *env) printOut(out any) error {
	if s, ok := out.(string); ok {
		if s != "" {
			fmt.Fprintln(e.stdout, s)
		}
		return nil
	}
	return json.NewEncoder(e.stdout).Encode(out)
}

// printDevices prints devices: one line each (id, state in the device
// list, trust, grouped fingerprint), or one JSON array.
func (e *env) printDevices(devs []client.DeviceInfo, asJSON bool) error {
	if asJSON {
		list := make([]obj, 0, len(devs))
		for _, d := range devs {
			o := obj{"jid": d.JID.String(), "device": d.Device, "active": d.Active, "own": d.Own}
			keys := make([]obj, 0, len(d.Keys))
			for _, k := range d.Keys {
				keys = append(keys, obj{"fingerprint": k.Fingerprint, "trust": k.Trust.String(), "first_seen": timeString(k.FirstSeen)})
			}
			o["keys"] = keys
			list = append(list, o)
		}
		return json.NewEncoder(e.stdout).Encode(list)
	}
	for _, d := range devs {
		state := "inactive"
		if d.Active {
			state = "active"
		}
		if d.Own {
			state += ", this device"
		}
		fp, trust := "(no key seen yet)", "-"
		if k, ok := d.Current(); ok {
			fp, trust = omemo.FormatFingerprint(k.Fingerprint), k.Trust.String()
		}
		if len(d.Keys) > 1 {
			trust += fmt.Sprintf(" (key changed; %d keys seen)", len(d.Keys))
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\n", d.Device, state, trust, fp)
	}
	return nil
}
