// The matrix-bridge's front door: everything that speaks Matrix, as the hub (and ops/, test/)
// may use it. Other packages import '@carehub/matrix-bridge', never a file under src/.

// The bot's Matrix client and device, what it sends with, and the rooms it delivers referrals into.
export { startBotClient, type BotClient, type BotClientOptions } from './bot-client.js';
export { RoomSender, type Audience, type DeviceReach } from './room-sender.js';
export { ReferralRooms } from './referral-rooms.js';
export { KeyShareLedger } from './key-share-ledger.js';

// Room kinds: what marks a room, the events it wants and what is done with each (docs/architecture.md, Rooms).
export type { KindEvent, MembershipPolicy, PowerLevels, ReadReceipt, RoomEventBase, RoomEventHandlers, RoomKind, StateChange } from './room-kind.js';
export { referralRoomKind, type ReferralRoomEvent, type ReferralRoomHandlers, type ReferralsRoomState } from './referral-room-kind.js';

// Events coming back from the rooms, handed to each room's kind.
export { RoomEvents } from './room-events.js';
export type { AnswerAction, ReferralAnswer } from './referral-answer.js';

// Rendering what the bot posts: referrals, their edits and re-sends, notices; every text it says.
export { BOT_MESSAGES } from './bot-messages.js';
export { ANSWER_HINT, escapeHtml, fhirGoesInThread, referralLabel, renderReferralEdit, renderReferralFhirFile, renderReferralMessage, renderReferralResend, type Heading, type ReferralMessageContent, type ReferralView } from './referral-message.js';
export { renderNotice, renderProcessingStatus, renderUnreadableNotice } from './room-notice.js';

// The keys CareHub's events carry in a room, and threading.
export { CAREHUB_DOCUMENT_KEY, CAREHUB_MESSAGE_KEY, FHIR_RESOURCE_KEY, FHIR_STRUCTURE_KEY, inThread, STATUS_REQUEST_KEY } from './room-state.js';

// Encrypted attachments (Matrix spec §11.12.5.2.3) in the homeserver's media repository.
export { AttachmentIntegrityError, type EncryptedFile } from './encrypted-attachment.js';
export { authenticatedMediaUrl, downloadEncryptedFile, uploadEncryptedFile, type FileMessageContent } from './matrix-media.js';
export { downloadEncryptedStream, uploadEncryptedStream } from './matrix-media-streams.js';

// Case rooms: moderated rooms a care counsellor runs with the case's professionals; the commands
// its members type, its open hours, and the power levels its moderation is.
export { CASE_COMMAND_WORDS, parseCaseCommand, type CaseCommand } from './case-commands.js';
export { formatLocalTime, formatOpenHours, isOpenAt, nextChange, parseOpenHours, WEEKDAYS, type OpenHoursReading, type OpenHoursRule, type Weekday } from './open-hours.js';
export { CASE_LEVELS, casePowerLevels, moderationOfPowerLevels, type CaseModeration } from './case-power-levels.js';
export { CASE_ROOM, caseRoomKind, type CaseHappening, type CaseRoomEvent, type CaseRoomHandlers, type CaseRoomState } from './case-room-kind.js';
export { CaseRooms, type CaseRoomPlan, type SettledCaseRoom } from './case-rooms.js';
export { CAREHUB_COMMUNICATION_KEY, renderCommunication } from './communication-message.js';
// Case meetings: the invitation (with its widget), and members' yes or no to it.
export { CAREHUB_APPOINTMENT_KEY, meetingTime, meetingUrl, meetingWidget, renderMeetingCancellation, renderMeetingInvitation, WIDGET_STATE, type MeetingView } from './meeting-message.js';
export { MEETING_ANSWER_WORDS, meetingAnswerOfText, readMeetingAnswer, type MeetingAnswerStatus } from './meeting-answer.js';
export { readRoomHistory, type HistoryMessage } from './room-history.js';
export { parseDirectCommand, type DirectCommand } from './direct-commands.js';
export { DIRECT_CHAT, directChatKind, type DirectChatEvent, type DirectChatHandlers, type DirectChatState } from './direct-chat-room-kind.js';
export { DirectChats } from './direct-chats.js';
// Case guests: the limited accounts their one-time links make on the hub's homeserver.
export { createGuestAccount, deactivateGuestAccount, GUEST_LOCALPART_PREFIX, type GuestAccount } from './guest-accounts.js';
