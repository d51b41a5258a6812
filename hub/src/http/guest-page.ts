import express, { type Router } from 'express';
import { escapeHtml, formatLocalTime } from '@carehub/matrix-bridge';
import { guestLinkWorks, redeemGuestLink, type GuestLinkSettings } from '../cases/redeem-guest-link.js';

export interface GuestPageOptions extends GuestLinkSettings {
  /** cases.guestClientUrl: the Matrix web client guests are sent to. */
  clientUrl: string | undefined;
  timeZone: string;
}

/** A link's secret as newLinkToken makes it (43 base64url characters); anything else opens nothing, unread. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The page behind a guest's one-time link, for a relative (or the person themself) who has
 * never used Matrix: no scripts, nothing from elsewhere, never cached or passed on as a referrer.
 */
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:38rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{font-size:1.1em;background:#eee;padding:.1em .3em}button{font-size:1.1em;padding:.5em 1em}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const GONE = page(
  'This link no longer works',
  '<p>A guest link works once, and only for a while. It has been used, or it has expired, or the invitation was ended.</p><p>Please ask the care counsellor who invited you for a new one.</p>',
);

/**
 * GET and POST /guest/<secret>. Opening the link shows what it is for and a button; only the
 * button (a POST) uses it up, because mail scanners and link previews open links by themselves.
 * The answer to the POST shows the account once.
 */
export function guestPage(options: GuestPageOptions): Router {
  const router = express.Router();
  const headers = (res: express.Response) =>
    res.set({
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'content-type': 'text/html; charset=utf-8',
    });

  router.get('/:token', async (req, res, next) => {
    try {
      headers(res);
      if (!TOKEN.test(req.params.token) || !(await guestLinkWorks(options.db, req.params.token))) return void res.status(410).send(GONE);
      res.status(200).send(
        page(
          'You are invited to a care conversation',
          '<p>A care counsellor has invited you to a private, end-to-end encrypted conversation with the people who look after someone close to you.</p>' +
            '<p>Press the button to get your guest account. This link then stops working, so do it on the device you will use.</p>' +
            '<form method="post"><button type="submit">Get my guest account</button></form>',
        ),
      );
    } catch (error) {
      next(error);
    }
  });

  router.post('/:token', async (req, res, next) => {
    try {
      headers(res);
      if (!TOKEN.test(req.params.token)) return void res.status(410).send(GONE);
      const result = await redeemGuestLink(options, req.params.token);
      if (result.kind === 'gone') return void res.status(410).send(GONE);
      if (result.kind === 'unavailable') {
        return void res.status(503).set('retry-after', '60').send(page('Please try again in a minute', '<p>Your guest account could not be made just now. Your link still works: open it again in a minute.</p>'));
      }
      const client = options.clientUrl
        ? `<p>Open <a href="${escapeHtml(options.clientUrl)}">${escapeHtml(options.clientUrl)}</a> and sign in with:</p>`
        : `<p>Open a Matrix app (for example Element), choose the homeserver <code>${escapeHtml(options.homeserverUrl)}</code>, and sign in with:</p>`;
      res.status(200).send(
        page(
          'Your guest account',
          client +
            `<p>User name: <code>${escapeHtml(result.userId)}</code><br>Password: <code>${escapeHtml(result.password)}</code></p>` +
            '<p><strong>Write the password down now: this page cannot be shown again.</strong></p>' +
            `<p>You will find an invitation to <strong>${escapeHtml(result.roomName)}</strong>; accept it to join. Your guest access ends ${escapeHtml(formatLocalTime(result.accessEndsAt, options.timeZone))}, or earlier if the counsellor ends it. The account can only be used in that conversation.</p>`,
        ),
      );
    } catch (error) {
      next(error);
    }
  });
  return router;
}
