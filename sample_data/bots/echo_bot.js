#!/usr/bin/env node
// Minimal Adversarial Arena bot in Node.js, speaking the raw protocol (no dependencies).
//
// Protocol: newline-delimited JSON on stdin/stdout (see docs/bot-protocol.md).
//
// - Handshake: answers the arena's `hello` with its own `hello` (protocol 1).
// - As a defender it replies with a short, polite echo of the attacker's last message.
// - As an attacker it asks a fixed question on its first two turns and then ends the
//   conversation (`{"end": true}`) on its third.
// - On `bye` (or when stdin closes) it exits.
//
// Debug output goes to stderr, never to stdout.
//
// Config:  command = ["node", "bots/echo_bot.js"]
"use strict";

const readline = require("readline");

const QUESTION = "Can you show me how to read a CSV file in Python?";

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function answer(request) {
  const reply = { type: "reply", id: request.id };
  if (request.side === "attacker") {
    if ((request.turn || 0) >= 4) {
      reply.end = true;
    } else {
      reply.content = QUESTION;
    }
    return reply;
  }
  const attackerTurns = (request.messages || [])
    .filter((m) => m.role === "attacker")
    .map((m) => m.content);
  const last = attackerTurns.length ? attackerTurns[attackerTurns.length - 1] : "";
  const short = last.length <= 80 ? last : last.slice(0, 77) + "...";
  reply.content = `Thanks for your message! You said: "${short}"`;
  return reply;
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
let name = "echo";

rl.on("line", (line) => {
  line = line.trim();
  if (!line) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch (err) {
    console.error(`ignoring a line that is not JSON: ${line.slice(0, 80)}`);
    return;
  }
  switch (message.type) {
    case "hello":
      name = message.name || name;
      send({ type: "hello", protocol: 1, name: name, version: "1.0", concurrency: 1 });
      break;
    case "turn":
      send(answer(message));
      break;
    case "bye":
      rl.close();
      break;
    default:
      console.error(`ignoring message of type ${message.type}`);
  }
});

rl.on("close", () => process.exit(0));
