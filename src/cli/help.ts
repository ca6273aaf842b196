// What `strata --help` prints: every command and option of the command-line client.

export const HELP = `Usage: strata --profile DIR [--relay URL] COMMAND [ARGS] [OPTIONS]

Commands:
  login NAME              create the profile for user NAME; on a fresh profile this creates
                          the account on the relay and prints its recovery code, once
                          (exit 5 if the name is taken: log in under another name)
  link-code               print a one-time code on its own line and wait (--timeout, default
                          600 s) for a new device to type it; that device joins the account
  link CODE               on a fresh profile: join the account whose device shows CODE
  devices                 list the account's devices
  unlink DEVICE           remove a device from the account; it is refused from then on
  recover NAME CODE       on a fresh profile: take account NAME back with its recovery code
                          (new keys; its other devices are removed); prints the new code
  send USER TEXT          send a text message; exits once the relay holds it
  send-file USER PATH     send a file; exits once the relay holds all of it (progress on
                          stderr when it is a terminal); resumes on the next start if cut
  listen                  print messages, and files as they are saved, as they arrive
  history USER            print the conversation with USER (and its notices: identity changes)
  safety-number USER      print the safety number with USER in 12 groups of 5 digits (USER's
                          side prints the same); compare it in person or on a call
  verify USER             mark USER as verified: if USER's identity then changes (a recovery,
                          or someone new under the name), sending to USER is blocked (exit 5)
  unverify USER           clear that mark
  accept-identity USER    accept a verified USER's new safety number: sending goes on, and
                          USER is no longer marked verified (verify again once checked)
  accept USER             accept USER's message request: their files download, they see
                          your read receipts and presence (sending to USER accepts too)
  block USER              drop USER's messages and refuse their files; unblock USER lifts it
  download KEY            download a received file that waits (over the auto-download size);
                          exits once it is saved
  web                     the desktop app's UI in a browser: serves it on 127.0.0.1 and
                          prints its address (with an access token) as the first line

Options:
  --profile DIR           the profile directory (required)
  --relay URL             the relay, e.g. wss://192.168.1.20:7000/#sha256=<hex> as it
                          prints it, or ws://127.0.0.1:7000/ (default $STRATA_RELAY);
                          without a #sha256= pin the first certificate seen is kept
  --insecure              allow plain ws:// to a relay on another machine
  --wait sent|delivered   send, send-file: wait until the relay holds it (default) or the
                          peer has it (for a file: received and its SHA-256 checked)
  --json                  listen, history, devices, safety-number: one JSON object a line
  --name NAME             link, recover: what the account's device list calls this device
                          (default: "Strata CLI on <hostname>")
  --for SECONDS           listen: stop after this long (default: until Ctrl+C)
  --downloads DIR         listen, web: save received files in DIR (saved in the profile;
                          default: the system's Downloads/Strata)
  --auto-download BYTES   files from contacts up to this size download by themselves; a
                          larger one waits for download KEY (saved; default 104857600)
  --timeout SECONDS       give up waiting for the relay after this long (default 30);
                          send-file: give up when the transfer has not moved for this long
  --segment-size BYTES    X: segment size, 64 to 65536 (saved in the profile)
  --assembly-period MS    N: milliseconds between assembly passes (saved)
  --idle-cycles K         K: passes without progress before the error flag, 1 to 3 (saved)
  --user NAME             web: log in as NAME at start (else the page asks)
  --port P                web: the port (default: any free one)
  --bind ADDR             web: the interface (default 127.0.0.1; anything else exposes
                          the app to the network, guarded only by the token)
  --token T               web: the access token (default: a random one)
  --help                  this text
  --                      the end of the options: what follows are arguments, even if
                          they start with -- (send bob -- "--verbose is on")
`;
