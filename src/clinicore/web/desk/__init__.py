"""What the desks (provider, pharmacy) share: sign-in, sessions, the route class and the page shell."""
