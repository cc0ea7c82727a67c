"""`mkt preview`: a local gallery of one bundle or a whole batch output folder.

gallery.py  what the page shows: the bundles under OUT, their creatives, approval and registry statuses, links
page.py     the HTML page drawn from that data (one document, its CSS and a small script, CSP by hash)
server.py   the 127.0.0.1 server (the page at /, the listed bundle files under /files/) and the static --html page"""
