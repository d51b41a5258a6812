import { z } from 'zod';

/**
 * Every option CareHub reads, with its default. This schema is the one place an option is
 * defined; `ops/config/carehub.example.yaml` documents each of them for operators.
 */
export const configSchema = z
  .object({
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Base URL integrators use; fills Location headers and Bundle links. */
        publicBaseUrl: z.url().default('http://127.0.0.1:8080'),
        /** Largest JSON body accepted, as express understands it ("5mb"). */
        maxBodySize: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "5mb"').default('5mb'),
        /**
         * The operator's listener, apart from the integrators' API: /metrics (Prometheus),
         * /healthz (liveness, no database work) and /readyz (readiness). Every process has one,
         * whatever its roles; processes sharing a machine need ports of their own (0: any free
         * port, logged at start). Keep it on the operator's network.
         */
        operator: z
          .object({
            host: z.string().min(1).default('127.0.0.1'),
            port: z.number().int().min(0).max(65535).default(9464),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
        poolSize: z.number().int().min(1).max(200).default(10),
      })
      .strict(),
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\//, 'a redis:// URL').default('redis://127.0.0.1:6379'),
        /** Key prefix of every BullMQ queue, so several hubs can share one Redis. */
        queuePrefix: z.string().min(1).regex(/^[^:]+$/, 'no ":"').default('carehub'),
      })
      .strict()
      .prefault({}),
    matrix: z
      .object({
        homeserverUrl: z.url(),
        /** The server part of Matrix IDs on the hub's homeserver (carehub.test in development). */
        serverName: z.string().min(1),
        bot: z
          .object({
            userId: z.string().regex(/^@[^:]+:.+$/, 'a Matrix user ID such as @carehub:example.org'),
            /** File holding the bot's password; read once to log in a device, never logged. */
            passwordFile: z.string().min(1),
            displayName: z.string().min(1).default('CareHub'),
            /** The bot's profile picture, an mxc:// URI already in the homeserver's media repository; set at start-up. */
            avatarUrl: z.string().regex(/^mxc:\/\/[^/]+\/[^/]+$/, 'an mxc:// URI').optional(),
          })
          .strict(),
        /**
         * Where the bot's device (session and Rust crypto store) is kept between restarts,
         * encrypted with the 32-byte key in keyFile (64 hex characters).
         */
        deviceStore: z
          .object({
            path: z.string().min(1),
            keyFile: z.string().min(1),
          })
          .strict(),
        /**
         * Which devices the bot shares room keys with. "cross-signed" (the default): only devices
         * their owner has verified with their cross-signing key, so a stolen password alone (a
         * new, unverified login) never reads patient data. "all": every device of a member, for
         * clients without cross-signing.
         */
        keySharing: z.enum(['cross-signed', 'all']).default('cross-signed'),
        /**
         * How often (seconds) the hub looks whether a recipient who could not read a referral now
         * has a device that can (besides looking whenever the bot sees a device change).
         */
        readabilityCheckSeconds: z.number().int().min(1).max(3600).default(30),
        /**
         * How many recent events per room the bot reads again at start-up, so answers that came
         * in while the hub was down are acted on (each event at most once).
         */
        catchUpEvents: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
    /**
     * Documents (Binary content): kept OpenPGP-encrypted to the hub's storage key. Without
     * storageKeyDir the hub accepts no documents (503).
     */
    documents: z
      .object({
        /** Folder of the hub's OpenPGP storage keys (`npm run setup` makes one; rotation adds more). */
        storageKeyDir: z.string().min(1).optional(),
        maxSizeBytes: z.number().int().min(1).default(256 * 1024 * 1024),
        allowedContentTypes: z
          .array(z.string().regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/, 'a media type such as application/pdf'))
          .min(1)
          .default(['application/pdf', 'image/png', 'image/jpeg', 'application/fhir+json', 'application/xml', 'text/xml', 'application/cda+xml', 'text/plain']),
        /** Worker threads that do the OpenPGP work, off the event loop. */
        pgpWorkers: z.number().int().min(1).max(16).default(2),
      })
      .strict()
      .prefault({}),
    subscriptions: z
      .object({
        /** How long an integrator's endpoint may take to answer one notification. */
        timeoutMs: z.number().int().min(100).default(10_000),
        /**
         * Rest-hook endpoints the hub may call although they are plain http or on a loopback,
         * link-local or private address: "host" (any port) or "host:port", IPv6 in brackets.
         * Every other endpoint must be https on a public address, at create time and again at
         * each delivery after DNS resolution.
         */
        allowedHosts: z
          .array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'a host or host:port, such as hooks.internal:8443 or [fd00::1]'))
          .default([]),
      })
      .strict()
      .prefault({}),
    outbox: z
      .object({
        /** How often the relay looks for unpublished rows when no NOTIFY woke it. */
        pollIntervalMs: z.number().int().min(50).default(1000),
        /** A row published this long ago and still not done is queued again (Redis lost it). */
        republishAfterMs: z.number().int().min(1000).default(60_000),
        batchSize: z.number().int().min(1).max(1000).default(100),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        /** Attempts before a delivery job moves to the failed set (the dead-letter queue). */
        attempts: z.number().int().min(1).default(25),
        /** First retry delay; doubles each attempt up to maxBackoffMs. */
        backoffMs: z.number().int().min(10).default(1000),
        /** Longest wait between two attempts, so work resumes soon after a long outage ends. */
        maxBackoffMs: z.number().int().min(10).default(60_000),
        /**
         * Delivery jobs run side by side: their database work, room lookups and uploads overlap,
         * while the bot's room events still leave one at a time (the SDK's scheduler:
         * docs/decisions/0007).
         */
        concurrency: z.number().int().min(1).max(64).default(8),
        /**
         * How long a worker holds a job before others may take it over. After a crash, the
         * job it was working on is picked up again once this has passed (BullMQ stalled jobs).
         */
        lockDurationMs: z.number().int().min(1000).default(30_000),
      })
      .strict()
      .prefault({}),
    /**
     * SMART Backend Services authorization of the FHIR API. On unless switched off; a hub with
     * it off logs a warning at start: run such a hub only on a trusted network (tests, benchmarks).
     */
    auth: z
      .object({
        enabled: z.boolean().default(true),
        /** The hub's private ES256 key (a JWK) for signing access tokens; the same on every node. */
        signingKeyFile: z.string().min(1).optional(),
        tokenLifetimeSeconds: z.number().int().min(30).max(3600).default(300),
      })
      .strict()
      .refine((auth) => !auth.enabled || auth.signingKeyFile, { message: 'signingKeyFile is required when enabled', path: ['signingKeyFile'] })
      .prefault({}),
    /**
     * Validation of what integrators write. Codes of outside terminologies (SNOMED CT, LOINC,
     * ICD-10-GM, …) the hub cannot check itself are reported as not checked (an information
     * issue), never taken as valid.
     */
    validation: z
      .object({
        /**
         * A FHIR terminology server asked about those codes with `$validate-code`. A code it
         * calls invalid refuses the write (400); while it cannot be reached, codes stay "not
         * checked" and writes go on. Answers are remembered for an hour.
         */
        terminologyServer: z
          .object({
            /** The server's FHIR base, e.g. https://tx.example.org/fhir. */
            url: z.url(),
            /** How long one question may take before the code stays not checked. */
            timeoutMs: z.number().int().min(100).max(60_000).default(5000),
          })
          .strict()
          .optional(),
        /**
         * Extensions beyond FHIR R4's core ones and CareHub's own. An extension the hub has no
         * definition of is refused ("could not be found so is not allowed here", as HL7's
         * validator says), unless its url starts with one of allowUnknownFrom (then a warning).
         */
        extensions: z
          .object({
            /** StructureDefinition files (one definition, or a Bundle as FHIR packages ship them) or folders of them, loaded at start-up. */
            definitions: z.array(z.string().min(1)).default([]),
            /** URL prefixes whose unknown extensions pass with a warning, e.g. a national profile's namespace. */
            allowUnknownFrom: z.array(z.url()).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Case rooms: the moderated rooms care counsellors run for a person's care network (docs/cases.md). */
    cases: z
      .object({
        /**
         * The time zone open hours are read in ("Tuesdays 15:00–16:00" is local time there); an
         * IANA name. A name Node's Intl does not know stops the hub at start-up.
         */
        timeZone: z
          .string()
          .default('Europe/Berlin')
          .refine((zone) => {
            try {
              new Intl.DateTimeFormat('en', { timeZone: zone });
              return true;
            } catch {
              return false;
            }
          }, 'not a time zone this Node.js knows (an IANA name such as Europe/Berlin)'),
        /**
         * How often (seconds) the case clock looks at every open case: timed mutes that have
         * ended, open hours that open or lock a room, Consents that have expired.
         */
        clockSeconds: z.number().int().min(1).max(3600).default(30),
        /**
         * How long (days) after a case closes, and its transcript is exported, its members stay
         * in the read-only room before they are removed and the room is purged. 0: at once.
         */
        removeMembersAfterDays: z.number().min(0).max(3650).default(30),
        /**
         * An access token of a Synapse server admin (not the bot's), in a file, for purging a
         * closed case's room from the homeserver (admin API, DELETE /_synapse/admin/v2/rooms).
         * Without it the bot removes the members and leaves, and the room's events stay on the
         * homeserver until an operator purges it; the hub logs a warning for each such room. The
         * same token makes and deactivates guests' accounts: without it "!guest" is refused.
         */
        synapseAdminTokenFile: z.string().min(1).optional(),
        /**
         * Where case meetings (a FHIR Appointment linked to the case) are held: a Jitsi server,
         * or another that opens a conference by its name in the path. Each meeting gets
         * `<meetingBaseUrl>/carehub-<random id>`, shown in the room as a widget and in the
         * encrypted invitation. Anyone with the link can join: run a server with a lobby or
         * authentication for patient conferences.
         */
        meetingBaseUrl: z.url().default('https://meet.jit.si'),
        /** How many minutes before a case meeting starts the room is reminded of it, once. 0: no reminders. */
        meetingReminderMinutes: z.number().int().min(0).max(1440).default(15),
        /**
         * How long (hours) a guest's one-time link works before it is used: a moderator's
         * "!guest" gives a relative, or the person themself, a link that makes them a limited
         * account on the hub's homeserver. Guests need synapseAdminTokenFile.
         */
        guestLinkHours: z.number().positive().max(720).default(72),
        /** How long (days) a guest keeps their access once invited; a moderator can end it sooner. */
        guestAccessDays: z.number().positive().max(365).default(30),
        /**
         * The Matrix web client the guest page sends guests to (e.g. an Element Web the county
         * runs for its homeserver); without it the page names the homeserver to sign in to.
         */
        guestClientUrl: z.url().optional(),
      })
      .strict()
      .prefault({}),
    /** Which parts this process runs; split them to scale the API apart from the workers. */
    roles: z
      .array(z.enum(['api', 'outbox-relay', 'delivery']))
      .min(1)
      .default(['api', 'outbox-relay', 'delivery']),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type CareHubConfig = z.infer<typeof configSchema>;
