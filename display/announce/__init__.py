"""Voice calls: "Nomor antrean B012, silakan menuju loket 3", then the English sentence.

- `phrases`: pure phrase builder (ticket number, counter, station -> clip tokens and text);
- `settings`: the `[announce]` table of config.toml;
- `clips`: clip URLs for the board and clip files for the server;
- `calls`: a call of the configured office -> announcement, URLs and repeat count;
- `render`: the clips joined into one WAV on the server;
- `blueprint`: `announce_blueprint`, the HTTP routes.

The browser player is `display/static/announcer.js`; the clips are in `display/static/audio`.
"""
