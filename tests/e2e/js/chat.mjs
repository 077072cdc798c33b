// End-to-end chat between two matrix-js-sdk clients against a Myelin server.
// Usage: node chat.mjs BASE_URL. Prints one JSON line with what was observed; exits non-zero
// on failure or after 60 s.
import * as sdk from "matrix-js-sdk";

const baseUrl = process.argv[2];
const password = "a long enough password";
const deadline = setTimeout(() => { console.error("timed out"); process.exit(2); }, 60000);

async function register(name) {
  const res = await fetch(`${baseUrl}/_matrix/client/v3/register`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: name, password, auth: { type: "m.login.dummy" } }),
  });
  if (!res.ok) throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function startClient(creds) {
  const client = sdk.createClient({
    baseUrl, userId: creds.user_id, accessToken: creds.access_token, deviceId: creds.device_id,
  });
  const ready = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync error"));
    });
  });
  await client.startClient({ initialSyncLimit: 10, lazyLoadMembers: true });
  await ready;
  return client;
}

function waitForMessage(client, roomId, body) {
  return new Promise((resolve) => {
    const onTimeline = (event, room) => {
      if (room?.roomId === roomId && event.getType() === "m.room.message"
          && event.getContent().body === body) {
        client.off(sdk.RoomEvent.Timeline, onTimeline);
        resolve(event);
      }
    };
    client.on(sdk.RoomEvent.Timeline, onTimeline);
  });
}

function waitForMembership(client, roomId, membership) {
  return new Promise((resolve) => {
    const check = () => {
      const room = client.getRoom(roomId);
      if (room && room.getMyMembership() === membership) { resolve(room); return true; }
      return false;
    };
    if (check()) return;
    const onEvent = () => { if (check()) client.off(sdk.ClientEvent.Room, onEvent); };
    client.on(sdk.ClientEvent.Room, onEvent);
    client.on(sdk.RoomMemberEvent.Membership, onEvent);
  });
}

const result = {};
try {
  const [aliceCreds, bobCreds] = [await register("jsalice"), await register("jsbob")];
  const alice = await startClient(aliceCreds);
  const bob = await startClient(bobCreds);
  const { room_id: roomId } = await alice.createRoom({ name: "js room", invite: [bob.getUserId()] });
  await waitForMembership(bob, roomId, "invite");
  result.bobSawInvite = true;
  await bob.joinRoom(roomId);
  const fromAlice = waitForMessage(bob, roomId, "hello from alice");
  await alice.sendTextMessage(roomId, "hello from alice");
  result.bobGot = (await fromAlice).getContent().body;
  const fromBob = waitForMessage(alice, roomId, "hello from bob");
  await bob.sendTextMessage(roomId, "hello from bob");
  result.aliceGot = (await fromBob).getContent().body;
  // Typing: bob types, alice sees it.
  const typingSeen = new Promise((resolve) => {
    alice.on(sdk.RoomMemberEvent.Typing, (_event, member) => {
      if (member.roomId === roomId && member.userId === bob.getUserId() && member.typing) {
        resolve(true);
      }
    });
  });
  await bob.sendTyping(roomId, true, 10000);
  result.aliceSawTyping = await typingSeen;
  // Receipts: alice reads bob's message, bob sees the receipt.
  const bobMessage = (await fromBob);
  const receiptSeen = new Promise((resolve) => {
    bob.on(sdk.RoomEvent.Receipt, (event, room) => {
      if (room.roomId !== roomId) return;
      const content = event.getContent();
      const readers = content[bobMessage.getId()]?.["m.read"] ?? {};
      if (alice.getUserId() in readers) resolve(true);
    });
  });
  await alice.sendReadReceipt(bobMessage);
  result.bobSawReceipt = await receiptSeen;
  const room = alice.getRoom(roomId);
  result.roomName = room.name;
  result.aliceMembers = room.getJoinedMembers().map((m) => m.userId).sort();
  alice.stopClient();
  bob.stopClient();
  console.log(JSON.stringify(result));
  clearTimeout(deadline);
  process.exit(0);
} catch (err) {
  console.error(err?.stack ?? String(err));
  console.log(JSON.stringify(result));
  process.exit(1);
}
